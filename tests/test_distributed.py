"""Data-parallel training under the real `paddle.distributed.launch`, 2 CPU processes.

Every test starts the launcher as a user would (gloo on CPU here), on real
MNIST, and checks what the issue asks: one writer, whole-test-set metrics,
sharded data, the scaled batch and learning rate, resume, and failures that
end every rank instead of hanging.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import REPO, run_tool

# a constant rate, so the recorded rate of an epoch is the (scaled) configured one
QUICK = ["-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=100", "-o", "train.log_freq=50",
         "-o", "optimizer.lr_schedule.name=constant",
         "-o", "output.checkpoint=out/mnist", "-o", "output.log_dir=out/logs"]
LENET = REPO / "configs" / "lenet.yml"
OUR_OUTPUT = ("Epoch", "step ", "accuracy", "data parallel", "checkpoint", "VisualDL", "error")


def _free_port_pair():
    """A port P with P+1 also free: the launcher's endpoints for 2 ranks (racy, but rarely)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def launch_cmd(script, *args):
    # --ips with --start_port pins the ports (the launcher's multi-machine form, on one
    # machine), so tests running at the same time do not take each other's ports
    return [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2",
            "--ips", "127.0.0.1", "--start_port", str(_free_port_pair()),
            "--log_dir", "workerlogs", str(REPO / "tools" / script), *map(str, args)]


def launch(script, *args, cwd, data_root, timeout=600):
    """Run tools/<script> on 2 ranks; (CompletedProcess, [workerlog.0 text, workerlog.1 text])."""
    env = dict(os.environ, PADDLE_MNIST_DATA=str(data_root))
    proc = subprocess.run(launch_cmd(script, *args), cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    return proc, worker_logs(cwd)


def worker_logs(cwd):
    return [(cwd / "workerlogs" / f"workerlog.{rank}").read_text() for rank in (0, 1)]


def explain(proc, logs):
    return f"launcher exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}\n" + \
        "\n".join(f"--- workerlog.{rank}\n{text[-3000:]}" for rank, text in enumerate(logs))


def errors(log):
    return [line for line in log.splitlines() if line.startswith("error:")]


def read_meta(folder, prefix="out/mnist"):
    return json.loads((folder / f"{prefix}.meta.json").read_text())


@pytest.fixture(scope="module")
def launched(tmp_path_factory, mnist_root):
    """One short 2-rank run (100 steps of 2 x 64 images) with the learning rate scaled."""
    folder = tmp_path_factory.mktemp("dp")
    proc, logs = launch("train.py", "-c", LENET, *QUICK, "-o", "train.scale_lr_with_ranks=true",
                        cwd=folder, data_root=mnist_root)
    assert proc.returncode == 0, explain(proc, logs)
    return folder, logs, read_meta(folder)


def test_two_ranks_write_one_checkpoint_and_one_visualdl_run(launched):
    from visualdl import LogReader

    folder, _, meta = launched
    written = sorted(os.listdir(folder / "out"))
    assert written == ["logs", "mnist.meta.json", "mnist.pdopt", "mnist.pdparams",
                       "mnist_best.meta.json", "mnist_best.pdparams"]
    assert os.listdir(folder / "out" / "logs") == [os.path.basename(meta["state"]["log_dir"])]
    records = glob.glob(str(folder / "out" / "logs" / "**" / "vdlrecords.*"), recursive=True)
    assert len(records) == 1
    reader = LogReader(file_path=records[0])
    # rank 0's steps, once (a point every 10)
    assert [r.id for r in reader.get_data("scalar", "train/loss")] == list(range(10, 101, 10))
    assert [r.value for r in reader.get_data("scalar", "eval/acc")] == pytest.approx(
        [meta["state"]["history"][0]["eval_acc"]], abs=1e-6)


def test_rank0_states_the_global_batch_and_the_scaled_learning_rate(launched):
    _, logs, meta = launched
    assert ("data parallel: 2 ranks x batch 64 = global batch 128; learning rate 0.002 "
            "(0.001 x 2, train.scale_lr_with_ranks=true)") in logs[0]
    assert meta["data_parallel"]["global_batch"] == 128
    assert meta["lr_multiplier"] == 2
    assert meta["state"]["history"][0]["lr"] == pytest.approx(0.002)  # what the optimizer used


def test_each_rank_trained_on_half_of_the_epochs_samples(launched):
    _, logs, meta = launched
    # counted by each rank's loader and gathered: 100 steps x 64 images per rank
    assert meta["data_parallel"]["samples_per_rank"] == [6400, 6400]
    assert "the ranks trained on 6400 + 6400 = 12800 samples" in logs[0]
    assert meta["state"]["steps_done"] == 100


def test_reported_test_accuracy_equals_the_eval_tool(launched, mnist_root):
    folder, logs, meta = launched
    proc = run_tool("eval.py", "--resume", "out/mnist", "--json", cwd=folder,
                    data_root=mnist_root)
    single = json.loads(proc.stdout)
    assert meta["test"]["samples"] == single["samples"] == 10000
    assert meta["test"]["acc"] == single["acc"]  # the whole test set, once
    assert meta["test"]["loss"] == pytest.approx(single["loss"], rel=1e-5)
    assert f"test accuracy {meta['test']['acc']:.2%} (loss {meta['test']['loss']:.4f})" in logs[0]


def test_other_ranks_stay_quiet(launched):
    _, logs, _ = launched
    assert "test accuracy" in logs[0]
    assert [line for line in logs[1].splitlines() if any(w in line for w in OUR_OUTPUT)] == []


def test_resume_under_the_launcher(launched, tmp_path, mnist_root):
    from visualdl import LogReader

    folder, _, first = launched
    shutil.copytree(folder / "out", tmp_path / "out")
    proc, logs = launch("train.py", "--resume", "out/mnist", "-o", "train.epochs=2",
                        "-o", "train.max_steps_per_epoch=50", cwd=tmp_path, data_root=mnist_root)
    assert proc.returncode == 0, explain(proc, logs)
    meta = read_meta(tmp_path)
    assert [r["epoch"] for r in meta["state"]["history"]] == [1, 2]
    assert meta["state"]["history"][0] == first["state"]["history"][0]
    assert meta["state"]["steps_done"] == 150
    assert meta["data_parallel"]["samples_per_rank"] == [3200, 3200]
    run = tmp_path / "out" / first["state"]["log_dir"]  # relative to the sidecar
    # the resumed leg continues the run's one record file
    [records] = glob.glob(str(run / "**" / "vdlrecords.*"), recursive=True)
    assert os.path.basename(records) == meta["state"]["log_file"] == first["state"]["log_file"]
    steps = [r.id for r in LogReader(file_path=records).get_data("scalar", "train/loss")]
    assert steps == list(range(10, 151, 10))
    assert "after 2 epochs" in logs[0]


@pytest.mark.parametrize("override, message", [
    ("train.epochs=0", "error: config key 'train.epochs' is 0; it must be >= 1"),
    ("data.input_size=32", "error: model 'lenet' expects 28x28 input"),  # found in engine.train
])
def test_a_bad_config_fails_every_rank_with_one_line(tmp_path, mnist_root, override, message):
    started = time.monotonic()
    proc, logs = launch("train.py", "-c", LENET, *QUICK, "-o", override, cwd=tmp_path,
                        data_root=mnist_root, timeout=180)
    assert proc.returncode == 2, explain(proc, logs)
    assert time.monotonic() - started < 120  # the launcher ended, no rank waits for another
    assert len(errors(logs[0])) == 1 and errors(logs[0])[0].startswith(message)
    assert errors(logs[1]) == errors(logs[0]), explain(proc, logs)
    assert "Traceback" not in logs[0] + logs[1]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_divergence_stops_every_rank_at_the_same_step(tmp_path, mnist_root):
    proc, logs = launch("train.py", "-c", LENET, *QUICK, "-o", "optimizer.learning_rate=1e6",
                        cwd=tmp_path, data_root=mnist_root, timeout=180)
    assert proc.returncode != 0, explain(proc, logs)
    assert len(errors(logs[0])) == 1 and "training diverged" in errors(logs[0])[0]
    assert errors(logs[1]) == errors(logs[0]), explain(proc, logs)  # the loss averaged over ranks
    assert not (tmp_path / "out" / "mnist.pdparams").exists()


@pytest.mark.slow
def test_one_and_two_processes_with_the_same_global_batch_agree(tmp_path, mnist_root):
    """A full epoch at global batch 128: 1 process x 128 against 2 ranks x 64."""
    common = ["-c", LENET, "-o", "train.epochs=1", "-o", "output.log_dir=logs",
              "-o", "optimizer.lr_schedule.name=constant"]  # no decay to zero within one epoch
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    run_tool("train.py", *common, "-o", "train.batch_size=128", "-o", "output.checkpoint=out/m",
             cwd=tmp_path / "one", data_root=mnist_root, timeout=1200)
    proc, logs = launch("train.py", *common, "-o", "train.batch_size=64",
                        "-o", "output.checkpoint=out/m", cwd=tmp_path / "two",
                        data_root=mnist_root, timeout=1200)
    assert proc.returncode == 0, explain(proc, logs)
    one, two = read_meta(tmp_path / "one", "out/m"), read_meta(tmp_path / "two", "out/m")
    assert one["state"]["steps_done"] == two["state"]["steps_done"] == 469  # 60000 / 128
    assert two["data_parallel"]["samples_per_rank"] == [30000, 30000]  # half of 60000 each
    assert one["test"]["acc"] > 0.97 and two["test"]["acc"] > 0.97
    assert abs(one["test"]["acc"] - two["test"]["acc"]) < 0.01


@pytest.mark.slow
def test_killed_launcher_resumes_from_the_last_epoch(tmp_path, mnist_root):
    """Ctrl-C on the launcher terminates every rank; --resume continues the run."""
    env = dict(os.environ, PADDLE_MNIST_DATA=str(mnist_root))
    args = ["-c", LENET, *QUICK, "-o", "train.epochs=3"]
    launcher = subprocess.Popen(launch_cmd("train.py", *args), cwd=tmp_path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / "out" / "mnist.meta.json").exists():
            assert launcher.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=60) != 0
    finally:
        launcher.kill()
    stopped = read_meta(tmp_path)["state"]["epochs_done"]
    assert stopped in (1, 2)
    proc, logs = launch("train.py", "--resume", "out/mnist", cwd=tmp_path, data_root=mnist_root)
    assert proc.returncode == 0, explain(proc, logs)
    meta = read_meta(tmp_path)
    assert [r["epoch"] for r in meta["state"]["history"]] == [1, 2, 3]
    assert meta["state"]["steps_done"] == 300


@pytest.mark.slow
def test_finetune_runs_under_the_launcher(launched, tmp_path, mnist_root):
    folder, _, source = launched
    shutil.copytree(folder / "out", tmp_path / "out")
    proc, logs = launch("finetune.py", "--resume", "out/mnist", "--epochs", "1",
                        "-o", "train.max_steps_per_epoch=50", cwd=tmp_path, data_root=mnist_root)
    assert proc.returncode == 0, explain(proc, logs)
    assert f"test accuracy before fine-tuning: {source['test']['acc']:.2%}" in logs[0]
    meta = read_meta(tmp_path, "out/mnist_finetune")
    assert meta["data_parallel"]["samples_per_rank"] == [3200, 3200]
    assert meta["source"]["prefix"] == "out/mnist"
    assert len(glob.glob(str(tmp_path / "out" / "logs" / "*finetune*" / "vdlrecords.*"))) == 1
    assert [line for line in logs[1].splitlines() if any(w in line for w in OUR_OUTPUT)] == []


@pytest.mark.slow
def test_sweep_runs_under_the_launcher(tmp_path, mnist_root):
    proc, logs = launch("sweep.py", "-c", LENET, "--grid", "optimizer.learning_rate=0.001,0.002",
                        "-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=20", "--out", "sw",
                        cwd=tmp_path, data_root=mnist_root)
    assert proc.returncode == 0, explain(proc, logs)
    lines = (tmp_path / "sw" / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["name"] for line in lines) == [
        "learning_rate=0.001", "learning_rate=0.002"]  # one record per point, from rank 0
    for name in ("learning_rate=0.001", "learning_rate=0.002"):
        meta = read_meta(tmp_path, f"sw/points/{name}/mnist")
        assert meta["data_parallel"]["samples_per_rank"] == [1280, 1280]
    assert len(glob.glob(str(tmp_path / "sw" / "logs" / "*" / "vdlrecords.*"))) == 2
    assert (tmp_path / "sw" / "sweep.md").is_file()
    assert [line for line in logs[1].splitlines() if any(w in line for w in OUR_OUTPUT)] == []
