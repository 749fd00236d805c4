"""Many training runs from one file: a grid over config keys, or named variants.

A sweep file is a training config plus a `sweep:` section holding either
`grid: {dotted.key: [values]}` (every combination is a point) or
`points: [{name, set: {dotted.key: value}, reference}]` (an ablation's rows).
Every point trains in this process through `engine.train`, with its own
checkpoint and VisualDL run under the sweep folder; each run records the
keys the sweep varies as hyper parameters (`visualdl.hparam_keys`), so
VisualDL's HyperParameters tab shows one row per point. A point whose loss
turns NaN is recorded as diverged and the sweep goes on.

Finished points are appended to `<folder>/results.jsonl` as they end, so a
sweep that is stopped and started again skips them; a point interrupted
half-way continues from its own checkpoint. A recorded point whose config no
longer matches (say `-o train.epochs` changed) is an error rather than a
silent mix of old and new numbers.
"""

import copy
import itertools
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Optional

from . import config as cfg
from . import configfiles
from .distributed import is_main_process
from .errors import ConfigError
from .yamlfile import short

RESULTS = "results.jsonl"
SPEC_KEYS = ("folder", "grid", "points")


@dataclass
class Point:
    name: str                 # unique and safe as a folder name
    label: str                # what tables show
    settings: dict            # dotted key -> value
    reference: Optional[float] = None
    config: Optional[cfg.Config] = field(default=None, repr=False)


@dataclass
class Sweep:
    folder: str
    points: list
    keys: list                # the grid's keys, in order (empty for named points)
    source: str


def parse_grid(texts):
    """['optimizer.momentum=0.1,0.5'] -> {'optimizer.momentum': [0.1, 0.5]}."""
    grid = {}
    for text in texts:
        key, sep, raw = text.partition("=")
        items = [item for item in raw.split(",") if item.strip()]
        if not sep or not key.strip() or not items:
            raise ConfigError(f"--grid {short(text)} must look like section.key=V1,V2, "
                              "e.g. --grid optimizer.learning_rate=0.1,0.4")
        grid[key.strip()] = [configfiles.parse_override(f"{key}={item}")[1] for item in items]
    return grid


def _slug(text):
    return re.sub(r"[^a-z0-9.=_-]+", "-", text.lower()).strip("-") or "point"


def grid_points(grid):
    short = {key: key.rsplit(".", 1)[-1] for key in grid}
    if len(set(short.values())) < len(short):
        short = {key: key for key in grid}
    points = []
    for values in itertools.product(*grid.values()):
        settings = dict(zip(grid, values))
        label = ", ".join(f"{short[k]}={v}" for k, v in settings.items())
        points.append(Point(_slug("_".join(f"{short[k]}={v}" for k, v in settings.items())),
                            label, settings))
    return points


def listed_points(entries):
    points = []
    for entry in entries:
        if (not isinstance(entry, dict) or "name" not in entry
                or set(entry) - {"name", "set", "reference"}):
            raise ConfigError(f"sweep point {short(entry)} must be a mapping with name, set "
                              "(dotted.key: value) and optionally reference")
        settings = entry.get("set") or {}
        if not isinstance(settings, dict):
            raise ConfigError(f"sweep point {short(entry['name'])}: set must map dotted.key to value")
        points.append(Point(_slug(str(entry["name"])), str(entry["name"]), settings,
                            entry.get("reference")))
    return points


def plan(config_path, overrides=(), grid_texts=(), folder=None):
    """Read a sweep (or plain training) config and resolve every point's Config.

    `grid_texts` (--grid) replace the file's grid; `overrides` (-o) apply to
    every point and may not touch a key the sweep varies. All configs are
    validated here, before anything trains.
    """
    data = configfiles.read_yaml(config_path)
    spec = data.pop("sweep", None) or {}
    if not isinstance(spec, dict) or set(spec) - set(SPEC_KEYS):
        raise ConfigError(f"{config_path}: the sweep section takes only {', '.join(SPEC_KEYS)}")
    grid = parse_grid(grid_texts) if grid_texts else spec.get("grid")
    if grid:
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise ConfigError(f"{config_path}: sweep.grid must map dotted.key to a list of values")
        points, keys = grid_points(grid), list(grid)
    elif spec.get("points"):
        points, keys = listed_points(spec["points"]), []
    else:
        raise ConfigError(f"{config_path} has no sweep.grid or sweep.points; add one or pass "
                          "--grid KEY=V1,V2")
    if len({p.name for p in points}) < len(points):
        raise ConfigError(f"{config_path}: two sweep points share a name")
    varied = {key for p in points for key in p.settings}
    for text in overrides:
        key = ".".join(configfiles.parse_override(text)[0])
        if key in varied:
            raise ConfigError(f"-o {text} sets {key}, which the sweep varies; change the grid "
                              "(--grid) instead")
    name = os.path.splitext(os.path.basename(config_path))[0]
    folder = folder or spec.get("folder") or os.path.join("runs", name)
    shown = f"visualdl.hparam_keys={json.dumps(sorted(varied))}"
    for point in points:
        own = [f"{key}={json.dumps(value)}" for key, value in point.settings.items()]
        where = [f"output.{key}={json.dumps(value)}" for key, value in (
            ("checkpoint", os.path.join(folder, "points", point.name, "mnist")),
            ("log_dir", os.path.join(folder, "logs")), ("run_name", point.name))]
        point.config = cfg.from_dict(copy.deepcopy(data), list(overrides) + own + where + [shown])
        # the validated value (e.g. 1e6 as a float, not YAML's string)
        point.settings = {key: cfg.lookup(point.config.to_dict(), key) for key in point.settings}
    return Sweep(folder, points, keys, config_path)


def read_results(folder):
    """{point name: record} of the points finished in `folder` so far."""
    path = os.path.join(folder, RESULTS)
    done = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:  # a line torn by a kill mid-write: that point reruns
                    continue
                done[record["name"]] = record
    return done


def _append_result(folder, record):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, RESULTS), "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _first_difference(old, new, where=""):
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{where}{key}.")
            if found:
                return found
        elif a != b:
            return f"{where}{key}: {short(a)} then, {short(b)} now"
    return None


def _check_recorded(sweep, done):
    for point in sweep.points:
        if point.name in done:
            now = json.loads(json.dumps(point.config.to_dict()))
            # what a point shows in VisualDL does not change what it trained
            change = _first_difference(cfg.without_dashboard(done[point.name]["config"]),
                                       cfg.without_dashboard(now))
            if change:
                raise ConfigError(
                    f"{os.path.join(sweep.folder, RESULTS)} holds point {point.name} trained "
                    f"with another config ({change}); use another --out folder or delete it")


def train_point(point):
    """Train one point and describe the outcome as a JSON-ready record.

    `seconds` is the wall time of this call (a continued point counts its
    last leg only); `seconds_per_epoch` comes from the whole run's history.
    """
    from . import engine
    from .errors import TrainingDiverged
    from .planning import plan as plan_run

    config = point.config
    record = {"name": point.name, "label": point.label, "settings": point.settings,
              "reference": point.reference, "checkpoint": config.output.checkpoint,
              "eval_split": "val" if config.data.val_split else "test",
              "config": json.loads(json.dumps(config.to_dict())), "diverged": False,
              "test_acc": None, "test_loss": None, "best_eval_acc": None, "epochs": 0,
              "stopped_early": False, "seconds_per_epoch": None}
    started = time.perf_counter()
    try:
        # a point interrupted half-way continues from its own checkpoint
        result = engine.train(plan_run(config=config, continue_if_same=True))
    except TrainingDiverged as err:
        return dict(record, diverged=True, error=str(err),
                    seconds=round(time.perf_counter() - started, 2))
    state = result.state
    per_epoch = [r.train_seconds for r in state.history]
    return dict(record, test_acc=result.test["acc"], test_loss=result.test["loss"],
                best_eval_acc=state.best_acc if state.best_epoch else None,
                epochs=state.epochs_done, stopped_early=state.stopped_early,
                seconds_per_epoch=sum(per_epoch) / len(per_epoch) if per_epoch else None,
                seconds=round(time.perf_counter() - started, 2))


def _outcome(record):
    return "diverged" if record["diverged"] else f"test accuracy {record['test_acc']:.2%}"


def run(sweep, log=print):
    """Train every point not yet recorded; the records of all points, in order."""
    from .callbacks import StopSignals, TrainingInterrupted

    done = read_results(sweep.folder)
    _check_recorded(sweep, done)

    def stop_between_points(signum, frame):  # a point in training handles its own stops
        raise TrainingInterrupted(f"sweep stopped between points; the finished ones are in "
                                  f"{os.path.join(sweep.folder, RESULTS)} and the same command "
                                  "goes on with the rest", signum)

    with StopSignals(stop_between_points):
        return _run_points(sweep, done, log)


def _run_points(sweep, done, log):
    from .callbacks import TrainingInterrupted

    records = []
    for number, point in enumerate(sweep.points, 1):
        tag = f"[{number}/{len(sweep.points)}] {point.label}"
        if point.name in done:
            record = done[point.name]
            log(f"{tag}: already done ({_outcome(record)}), skipped")
        else:
            log(f"{tag}: training -> {point.config.output.checkpoint}")
            try:
                record = train_point(point)
            except TrainingInterrupted as stop:
                raise TrainingInterrupted(f"{stop} (or run the same sweep command again: it "
                                          "continues this point and skips finished ones)",
                                          stop.signum) from None
            if is_main_process():  # under paddle.distributed.launch every rank trains it
                _append_result(sweep.folder, record)
            log(f"{tag}: {record['error'] if record['diverged'] else _outcome(record)}")
        records.append(record)
    return records
