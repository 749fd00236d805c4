"""What the VisualDL dashboard costs a training run, measured end to end.

The same config is trained with `visualdl.enabled=false` and with its own
dashboard settings, `repeats` times each, interleaved (off/on, then on/off,
...) so that a change of the machine's load hits both alike. Every run is
`python -m paddle_mnist train` in a process and a folder of its own and is
timed from start to exit, so the figure is what a user waits for: start-up,
the graph, every record, the figures, the embeddings at the end. The
sidecar's per-epoch seconds (training plus evaluation) are reported beside it.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from ..checkpoint import read_sidecar
from ..errors import UserError
from . import machine


def run_once(config, overrides, dashboard, folder):
    """One timed training run; its wall time, epoch seconds and the load before it."""
    switch = [] if dashboard else ["-o", "visualdl.enabled=false"]
    where = ["-o", f"output.checkpoint={folder}/mnist", "-o", f"output.log_dir={folder}/logs"]
    command = [sys.executable, "-m", "paddle_mnist", "train", "-c", config,
               *[arg for text in overrides for arg in ("-o", text)], *switch, *where]
    load = machine.load_average()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise UserError(f"the timed training run failed ({last}); run it alone: "
                        f"{' '.join(command)}")
    history = read_sidecar(os.path.join(folder, "mnist")).state.history
    return {"dashboard": dashboard, "wall_s": round(wall, 2),
            "epochs_s": round(sum(r.seconds for r in history), 2), "load_before": load}


def measure(config, overrides=(), repeats=3):
    """{"runs": [...], "off"/"on": medians, "overhead": on / off - 1, "machine": ...}."""
    before = machine.describe()
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)
            for dashboard in order:
                folder = os.path.join(scratch, f"{repeat}-{'on' if dashboard else 'off'}")
                runs.append(run_once(config, overrides, dashboard, folder))
    medians = {}
    for name, dashboard in (("off", False), ("on", True)):
        mine = [run for run in runs if run["dashboard"] is dashboard]
        medians[name] = {key: round(statistics.median(run[key] for run in mine), 2)
                         for key in ("wall_s", "epochs_s")}
    overhead = {key: round(medians["on"][key] / medians["off"][key] - 1, 4)
                for key in ("wall_s", "epochs_s")}
    return {"config": config, "overrides": list(overrides), "repeats": repeats, "runs": runs,
            **medians, "overhead": overhead,
            "machine": dict(before, load_average_after=machine.load_average())}
