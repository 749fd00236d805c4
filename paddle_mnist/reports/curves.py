"""Per-epoch training curves from a checkpoint sidecar or from VisualDL logs.

A sidecar's history already holds one record per epoch. VisualDL logs hold
train scalars by global step and eval scalars by epoch (from 1, or on from
the source's epochs for a fine-tune); steps are assigned to the epoch whose
evaluation followed them by timestamp, so a run resumed with a different
steps-per-epoch is still split correctly. Every leg of a run appends to the
run's one record file (`paddle_mnist.dashboard.records`); like VisualDL, the
newest record file of a folder is the run's.
"""

import glob
import os
from dataclasses import dataclass, field

from ..checkpoint import META, normalize_prefix, read_sidecar
from ..errors import ConfigError

METRICS = ("train_loss", "train_acc", "eval_loss", "eval_acc")


@dataclass
class Run:
    name: str
    eval_split: str = "eval"
    points: dict = field(default_factory=dict)   # metric -> [(epoch, value)]

    def series(self, metric):
        return sorted(self.points.get(metric, []))


def from_sidecar(prefix):
    """Curves of the checkpoint at `prefix`, from the history in its sidecar (the
    train loss there is the epoch's mean, `metrics.WholeSetLoss`)."""
    sidecar = read_sidecar(prefix)
    state = sidecar.state
    run = Run(state.run_name or normalize_prefix(prefix), sidecar.eval_split)
    for metric in METRICS:
        run.points[metric] = [(r.epoch, getattr(r, metric)) for r in state.history]
    return run


def _read_scalars(path):
    """{tag: {id: (timestamp, value)}} of a record file."""
    from visualdl import LogReader

    scalars = {}
    reader = LogReader(file_path=path)
    for tag in reader.get_tags().get("scalar", []):
        for record in reader.get_data("scalar", tag):
            scalars.setdefault(tag, {})[record.id] = (record.timestamp, record.value)
    return scalars


def from_visualdl(path, name):
    """Per-epoch curves from a run's VisualDL record file: train loss is the mean
    of the epoch's points, train accuracy the epoch's running accuracy at its last."""
    scalars = _read_scalars(path)
    run = Run(name)
    evals = sorted((stamp, epoch) for epoch, (stamp, _) in scalars.get("eval/acc", {}).items())
    for tag in ("eval/loss", "eval/acc"):
        run.points[tag.replace("/", "_")] = [(epoch, value) for epoch, (_, value)
                                             in scalars.get(tag, {}).items()]
    for tag, metric in (("train/loss", "train_loss"), ("train/acc", "train_acc")):
        by_epoch = {}
        for step, (stamp, value) in sorted(scalars.get(tag, {}).items()):
            epoch = next((e for s, e in evals if stamp <= s), None)
            if epoch is not None:  # steps after the last evaluation have no epoch yet
                by_epoch.setdefault(epoch, []).append(value)
        run.points[metric] = [(epoch, sum(v) / len(v) if metric == "train_loss" else v[-1])
                              for epoch, v in by_epoch.items()]
    return run


def _record_files(folder):
    """{run folder: its record file}: the name that sorts last, as VisualDL picks."""
    runs = {}
    for root, _, files in sorted(os.walk(folder)):
        records = sorted(f for f in files if "vdlrecords" in f)
        if records:
            runs[root] = os.path.join(root, records[-1])
    return runs


def expand_prefixes(patterns):
    """Sources with shell-style patterns (runs/*/mnist) matched against sidecars; the
    shell cannot expand them itself, as no file is called just `mnist`."""
    found = []
    for pattern in patterns:
        matches = glob.glob(normalize_prefix(pattern) + META) if glob.has_magic(pattern) else []
        found += [normalize_prefix(m) for m in sorted(matches)] or [pattern]
    return found


def load_runs(sources):
    """Runs from checkpoint prefixes (or their .meta.json, or patterns such as
    runs/*/mnist) and VisualDL log folders."""
    runs = []
    for source in expand_prefixes(sources):
        if os.path.isfile(normalize_prefix(source) + META):
            runs.append(from_sidecar(source))
            continue
        if not os.path.isdir(source):
            raise ConfigError(f"{source} is neither a checkpoint prefix (no {META} sidecar) "
                              "nor a VisualDL log folder; pass e.g. output/mnist or logs/")
        found = _record_files(source)
        if not found:
            raise ConfigError(f"no VisualDL records (vdlrecords.*.log) under {source}; "
                              "train with tools/train.py first, or pass a checkpoint prefix")
        for run_dir, path in found.items():
            name = os.path.relpath(run_dir, source)
            runs.append(from_visualdl(path, os.path.basename(run_dir) if name == "." else name))
    return runs
