"""tools/benchmark.py train on real MNIST: the report's fields and its errors.

No timing is asserted (timings depend on the machine and its load); what is
checked is that the figures are measured, consistent and sane.
"""

import json

import pytest

from conftest import REPO, run_tool

LENET = REPO / "configs" / "lenet.yml"
SHORT = ("--steps", "6", "--warmup", "2", "--windows", "3")


def benchmark(*args, cwd, data_root, check=True):
    return run_tool("benchmark.py", "train", "-c", LENET, *SHORT, *args, cwd=cwd,
                    data_root=data_root, check=check)


def test_train_reports_measured_throughput_as_json(tmp_path, mnist_root):
    proc = benchmark("--batch-sizes", "32,64", "--json", cwd=tmp_path, data_root=mnist_root)
    report = json.loads(proc.stdout)
    machine = report["machine"]
    assert machine["logical_cpus"] >= 1 and machine["cpu_model"]
    assert len(machine["load_average"]) == 3 and len(machine["load_average_after"]) == 3
    assert machine["paddle_version"].startswith("3.") and machine["device"] == "cpu"
    assert report["config"]["model"]["name"] == "lenet"
    rows = report["results"]
    assert [(r["framework"], r["batch"], r["global_batch"], r["ranks"]) for r in rows] == \
        [("paddle", 32, 32, 1), ("paddle", 64, 64, 1)]
    for row in rows:
        assert 0 < row["min_images_per_s"] <= row["images_per_s"] <= row["max_images_per_s"]
        assert row["windows"] == 3 and row["steps_per_window"] == 2 and row["warmup_steps"] == 2
        assert row["threads"] >= 1 and 0 < row["cpu_per_wall"] < 4
        assert row["peak_rss_mb"] > 50
        assert row["model"] == "lenet" and row["optimizer"] == "adam"
    assert "ratios" not in report and "profile" not in report
    assert not list(tmp_path.iterdir()), "a benchmark writes no checkpoints or logs"


def test_train_table_and_profile(tmp_path, mnist_root):
    proc = benchmark("-o", "model.name=lenet_layer", "--profile", cwd=tmp_path,
                     data_root=mnist_root)
    lines = proc.stdout.splitlines()
    assert "logical CPUs" in lines[0] and "load average" in lines[0]
    assert lines[1].split()[:5] == ["framework", "batch", "ranks", "threads", "img/s"]
    assert lines[2].split()[:3] == ["paddle", "64", "1"]
    assert "profile of lenet_layer at batch 64" in proc.stdout
    ops = [line.split()[0] for line in lines[5:]]
    assert "conv2d" in ops and any(op.startswith("Global_Conv2dGradNode") for op in ops)


def test_compare_torch_gives_ratios_for_each_thread_count(tmp_path, mnist_root, monkeypatch):
    torch = pytest.importorskip("torch")
    # importing paddle in this process set OMP_NUM_THREADS=1, which would make
    # torch's default one thread in the tool too
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    proc = benchmark("--compare-torch", "--json", cwd=tmp_path, data_root=mnist_root)
    report = json.loads(proc.stdout)
    torch_rows = [r for r in report["results"] if r["framework"] == "torch"]
    default = torch_rows[0]["default_threads"]
    assert default >= 1 and all(r["default_threads"] == default for r in torch_rows)
    assert [r["threads"] for r in torch_rows] == sorted({1, default})
    assert all(r["images_per_s"] > 0 and r["batch"] == 64 for r in torch_rows)
    assert report["machine"]["torch_version"] == torch.__version__
    paddle_rate = report["results"][0]["images_per_s"]
    for ratio, row in zip(report["ratios"], torch_rows):
        assert ratio["torch_threads"] == row["threads"]
        # the ratio is rounded to 2 decimals, the rates to 1
        assert ratio["paddle_over_torch"] == pytest.approx(paddle_rate / row["images_per_s"],
                                                           abs=0.006)


@pytest.mark.parametrize("args, message", [
    (["-o", "train.no_such_key=1"], "no_such_key"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--windows", "9"], "--windows must be between 1 and --steps"),
    (["--batch-sizes", "64,x"], "expected positive integers"),
    (["--compare-torch", "-o", "model.name=mlp"], "PyTorch twin of LeNet only"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, mnist_root, args, message):
    proc = benchmark(*args, cwd=tmp_path, data_root=mnist_root, check=False)
    assert proc.returncode == 2, proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1 and message in error_lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_infer_refuses_bad_counts_before_loading_anything(tmp_path):
    proc = run_tool("benchmark.py", "infer", "--model", "nowhere/mnist", "--big-batch", "0",
                    cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "--big-batch must be at least 1" in proc.stderr


def test_missing_torch_says_how_to_install_it(monkeypatch):
    import importlib.util

    from paddle_mnist.bench import torch_reference
    from paddle_mnist.config import load_config
    from paddle_mnist.errors import UserError

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real_find_spec(name, *a))
    with pytest.raises(UserError, match=r"pip install -r requirements-bench\.txt"):
        torch_reference.check(load_config(LENET))


def test_dashboard_times_whole_runs_off_and_on_interleaved(tmp_path, mnist_root):
    proc = run_tool("benchmark.py", "dashboard", "-c", "fast", "-o", "train.epochs=1",
                    "-o", "train.max_steps_per_epoch=5", "--repeats", "2", "--json",
                    cwd=tmp_path, data_root=mnist_root)
    report = json.loads(proc.stdout)
    assert [run["dashboard"] for run in report["runs"]] == [False, True, True, False]
    for run in report["runs"]:
        assert 0 < run["epochs_s"] < run["wall_s"] and len(run["load_before"]) == 3
    for name in ("off", "on"):
        walls = sorted(r["wall_s"] for r in report["runs"] if r["dashboard"] == (name == "on"))
        assert report[name]["wall_s"] == pytest.approx(sum(walls) / 2, abs=0.01)  # median of 2
    assert report["overhead"]["wall_s"] == pytest.approx(
        report["on"]["wall_s"] / report["off"]["wall_s"] - 1, abs=1e-3)
    assert not list(tmp_path.iterdir()), "the runs train in a temporary folder"
    from paddle_mnist.reports.summary import dashboard_benchmark_table

    table = dashboard_benchmark_table(report).splitlines()
    assert table[2] == "dashboard   wall s   epochs s   load before" and len(table) == 8
    assert table[-1].startswith("median of 2: off ")
