"""Sweeps and ablations: in-process points, diverged points recorded, resumable folders."""

import csv
import json
import os
import shutil

import pytest
from PIL import Image

from conftest import REPO, run_tool
from paddle_mnist import sweep
from paddle_mnist.checkpoint import read_sidecar
from paddle_mnist.errors import ConfigError

SWEEP_FILE = REPO / "configs" / "sweep_lr_momentum.yml"
TINY = ["-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=30", "-o", "data.val_split=1000",
        "-o", "train.log_freq=50"]
GRID = ["--grid", "optimizer.learning_rate=0.05,1e6", "--grid", "optimizer.momentum=0.0,0.5"]


def table_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def png_size(path):
    with Image.open(path) as image:
        return image.size


# --- planning, no training --------------------------------------------------

def test_grid_points_cover_every_combination_with_distinct_names():
    grid = sweep.parse_grid(["optimizer.learning_rate=0.1,0.4", "optimizer.momentum=0.1,0.9"])
    assert grid == {"optimizer.learning_rate": [0.1, 0.4], "optimizer.momentum": [0.1, 0.9]}
    points = sweep.grid_points(grid)
    assert [p.settings for p in points] == [
        {"optimizer.learning_rate": lr, "optimizer.momentum": m} for lr in (0.1, 0.4)
        for m in (0.1, 0.9)]
    assert len({p.name for p in points}) == 4 and all("/" not in p.name for p in points)


def test_plan_resolves_each_point_into_its_own_folder(tmp_path):
    plan = sweep.plan(str(SWEEP_FILE), ["train.epochs=2"], folder=str(tmp_path / "s"))
    assert len(plan.points) == 9 and plan.keys == ["optimizer.learning_rate", "optimizer.momentum"]
    configs = [p.config for p in plan.points]
    assert {(c.optimizer.learning_rate, c.optimizer.momentum) for c in configs} == {
        (lr, m) for lr in (0.1, 0.4, 0.7) for m in (0.1, 0.4, 0.7)}
    assert all(c.train.epochs == 2 and c.optimizer.name == "momentum" for c in configs)
    assert len({c.output.checkpoint for c in configs}) == 9
    assert all(c.output.checkpoint.startswith(str(tmp_path / "s")) for c in configs)


@pytest.mark.parametrize("overrides, grid, message", [
    (["optimizer.momentum=0.5"], [], "which the sweep varies"),
    ([], ["optimizer.name=sgd,rmsprop"], "optimizer.name"),
    ([], ["optimizer.learning_rate"], "must look like section.key=V1,V2"),
])
def test_bad_sweeps_fail_before_training(tmp_path, overrides, grid, message):
    with pytest.raises(ConfigError, match=message):
        sweep.plan(str(SWEEP_FILE), overrides, grid, str(tmp_path))


# --- real sweeps ------------------------------------------------------------

@pytest.fixture(scope="module")
def swept(tmp_path_factory, mnist_root):
    """A 2x2 grid where learning rate 1e6 diverges; trained once for this module."""
    folder = tmp_path_factory.mktemp("sweep")
    proc = run_tool("sweep.py", "-c", SWEEP_FILE, *GRID, *TINY, "--out", "sweep", cwd=folder,
                    data_root=mnist_root)
    return folder, proc


def test_sweep_tables_every_point_and_records_divergence(swept):
    folder, proc = swept
    assert "4 points, 2 diverged" in proc.stdout
    rows = table_rows(folder / "sweep" / "sweep.csv")
    assert [(float(r["optimizer.learning_rate"]), float(r["optimizer.momentum"])) for r in rows] \
        == [(0.05, 0.0), (0.05, 0.5), (1e6, 0.0), (1e6, 0.5)]
    for row in rows:
        if float(row["optimizer.learning_rate"]) == 1e6:
            assert row["diverged"] == "yes" and row["test accuracy"] == ""
            continue
        assert row["diverged"] == "no" and float(row["test accuracy"]) > 0.3
        sidecar = read_sidecar(str(folder / "sweep" / "points" / row["point"] / "mnist"))
        assert float(row["test accuracy"]) == pytest.approx(sidecar.test.acc)
        assert float(row["best val accuracy"]) == pytest.approx(sidecar.state.best_acc)
        assert os.path.isdir(folder / sidecar.state.log_dir)  # its own VisualDL run
    markdown = (folder / "sweep" / "sweep.md").read_text()
    assert markdown.count("| yes |") == 2 and markdown.count("| no |") == 2
    width, height = png_size(folder / "sweep" / "heatmap.png")
    assert width >= 300 and height >= 200


def test_resumed_sweep_trains_only_unfinished_points(swept, tmp_path, mnist_root):
    copy = tmp_path / "copy"
    shutil.copytree(swept[0], copy)  # paths in the sweep are relative: the copy is a sweep too
    params = sorted((copy / "sweep" / "points").glob("*/mnist.pdparams"))
    before = {path: path.stat().st_mtime_ns for path in params}
    assert len(before) == 2
    # as if killed after the point's last checkpoint, before its result was recorded
    results = copy / "sweep" / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[1:]))
    lost = json.loads(lines[0])
    # a wider grid: the two new points (learning rate 2e6) diverge at once, which keeps this quick
    proc = run_tool("sweep.py", "-c", SWEEP_FILE, "--grid", "optimizer.learning_rate=0.05,1e6,2e6",
                    *GRID[2:], *TINY, "--out", "sweep", cwd=copy, data_root=mnist_root)
    assert proc.stdout.count("already done") == 3 and proc.stdout.count(": training ->") == 3
    assert {path: path.stat().st_mtime_ns for path in params} == before  # nothing retrained
    records = sweep.read_results(str(copy / "sweep"))
    assert len(records) == 6 and len(table_rows(copy / "sweep" / "sweep.csv")) == 6
    assert records[lost["name"]]["test_acc"] == pytest.approx(lost["test_acc"])
    assert records[lost["name"]]["epochs"] == 1


def test_a_recorded_sweep_refuses_a_changed_config(swept, mnist_root):
    folder = swept[0]
    proc = run_tool("sweep.py", "-c", SWEEP_FILE, *GRID, *TINY, "-o", "train.seed=7",
                    "--out", "sweep", cwd=folder, data_root=mnist_root, check=False)
    assert proc.returncode == 2
    assert "trained with another config (train.seed: 42 then, 7 now)" in proc.stderr


def test_what_a_sweep_shows_in_visualdl_does_not_make_its_points_stale(swept, mnist_root):
    proc = run_tool("sweep.py", "-c", SWEEP_FILE, *GRID, *TINY, "-o", "visualdl.images=false",
                    "--out", "sweep", cwd=swept[0], data_root=mnist_root)
    assert proc.stdout.count("already done") == 4 and ": training ->" not in proc.stdout


def test_each_point_records_the_swept_keys_as_hyper_parameters(tmp_path):
    plan = sweep.plan(str(SWEEP_FILE), [], ["optimizer.momentum=0.1,0.9", "train.seed=1,2"],
                      folder=str(tmp_path / "s"))
    assert {tuple(p.config.visualdl.hparam_keys) for p in plan.points} == {
        ("optimizer.momentum", "train.seed")}


def test_ablation_rows_table_and_chart(tmp_path, mnist_root):
    proc = run_tool("ablate.py", "-c", REPO / "configs" / "ablation.yml", "-o", "train.epochs=1",
                    "-o", "train.max_steps_per_epoch=10", "-o", "data.val_split=1000",
                    "--out", "ablation", cwd=tmp_path, data_root=mnist_root)
    assert "wrote ablation/ablation.md" in proc.stdout
    lines = (tmp_path / "ablation" / "ablation.md").read_text().splitlines()
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines
            if line.startswith("| ") and not line.startswith("| variant") and "---" not in line]
    assert [r[0] for r in rows] == ["base LeNet", "+ augmentation", "+ batch norm",
                                    "+ step decay & early stopping"]
    assert [r[2] for r in rows] == ["97.5%", "98.2%", "98.5%", "98.7%"]
    assert all(r[4] == "1" for r in rows)
    records = sweep.read_results(str(tmp_path / "ablation"))
    for row in rows:
        record = next(r for r in records.values() if r["label"] == row[0])
        sidecar = read_sidecar(str(tmp_path / record["checkpoint"]))
        assert row[1] == f"{sidecar.test.acc:.2%}"
        seconds = sidecar.state.history[0].train_seconds
        assert float(row[3]) == pytest.approx(seconds, abs=0.06)  # printed with one decimal
    models = [records[name]["config"]["model"]["name"] for name in records]
    assert sorted(models) == ["lenet", "lenet", "lenet_bn", "lenet_bn"]
    width, height = png_size(tmp_path / "ablation" / "ablation.png")
    assert width >= 400 and height >= 200


def test_sigterm_stops_a_sweep_after_the_step_and_the_same_command_goes_on(tmp_path, mnist_root):
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, str(REPO / "tools" / "sweep.py"), "-c", str(SWEEP_FILE),
               "--grid", "optimizer.learning_rate=0.05,0.01", "--grid", "optimizer.momentum=0.0",
               "-o", "train.epochs=2", "-o", "train.max_steps_per_epoch=400",
               "-o", "data.val_split=1000", "--out", "sweep"]
    env = dict(os.environ, PADDLE_MNIST_DATA=str(mnist_root))
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    first = tmp_path / "sweep" / "points"
    deadline = time.time() + 300
    while not list(first.glob("*/mnist.meta.json")) and time.time() < deadline:
        time.sleep(0.1)  # the first point finished its first epoch
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "FatalError" not in err
    assert err.strip().splitlines()[-1].startswith("interrupted: training stopped ")
    assert "or run the same sweep command again" in err
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=600)
    assert "2 points, 0 diverged" in again.stdout
    assert all(r["epochs"] == 2 for r in sweep.read_results(str(tmp_path / "sweep")).values())
