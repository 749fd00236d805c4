"""Real training on real MNIST: accuracy, VisualDL records, resume, determinism."""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from paddle_mnist import engine
from paddle_mnist.planning import plan
from paddle_mnist.config import load_config

from conftest import REPO, run_tool

QUICK = ["-o", "train.epochs=2", "-o", "train.max_steps_per_epoch=150", "-o", "train.log_freq=50"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_root):
    """One short real run (300 steps of LeNet) shared by this module's tests."""
    folder = tmp_path_factory.mktemp("run")
    proc = run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", *QUICK,
                    cwd=folder, data_root=mnist_root)
    meta = json.loads((folder / "output" / "mnist.meta.json").read_text())
    return folder, proc, meta


def test_short_run_beats_90_percent_and_says_where_things_are(trained):
    folder, proc, meta = trained
    assert meta["test"]["acc"] > 0.90
    assert f"test accuracy {meta['test']['acc']:.2%}" in proc.stdout
    assert "checkpoint: output/mnist" in proc.stdout and "visualdl --logdir logs" in proc.stdout
    assert [r["epoch"] for r in meta["state"]["history"]] == [1, 2]
    for ext in (".pdparams", ".pdopt", ".meta.json"):
        assert (folder / "output" / f"mnist{ext}").is_file()
    assert (folder / "output" / "mnist_best.pdparams").is_file()
    assert not glob.glob(str(folder / "output" / "*.tmp*"))
    assert meta["config"]["train"]["max_steps_per_epoch"] == 150  # resolved config kept


def test_eval_tool_reports_the_same_accuracy(trained, mnist_root):
    folder, _, meta = trained
    proc = run_tool("eval.py", "--resume", "output/mnist", "--json", cwd=folder,
                    data_root=mnist_root)
    result = json.loads(proc.stdout)
    assert result["samples"] == 10000
    assert result["acc"] == pytest.approx(meta["test"]["acc"], abs=1e-9)


def test_visualdl_records_are_readable_by_visualdls_reader(trained):
    from visualdl import LogReader

    folder, _, meta = trained
    # the sidecar names its VisualDL folder relative to itself (output/ -> ../logs/...)
    assert meta["state"]["log_dir"] == f"../logs/{meta['state']['run_name']}"
    records = glob.glob(str(folder / "logs" / meta["state"]["run_name"] / "vdlrecords.*.log"))
    assert len(records) == 1
    reader = LogReader(file_path=records[0])
    assert {"train/loss", "train/acc", "train/lr", "eval/loss", "eval/acc"} <= set(
        reader.get_tags()["scalar"])
    eval_acc = [r.value for r in reader.get_data("scalar", "eval/acc")]
    assert eval_acc == pytest.approx([r["eval_acc"] for r in meta["state"]["history"]], abs=1e-6)
    # a point every visualdl.scalars_every (10) global steps, over both epochs
    assert [r.id for r in reader.get_data("scalar", "train/loss")] == list(range(10, 301, 10))
    rates = [r.value for r in reader.get_data("scalar", "train/lr")]
    # the rate step 10 trained at, 9 cosine steps into 300; then decaying
    assert rates[0] == pytest.approx(1e-3, rel=3e-3) and rates[-1] < rates[0] / 2


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_visualdl_server_serves_the_curves(trained):
    folder, _, meta = trained
    port = _free_port()
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "visualdl"),
                               "--logdir", "logs", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = f"logs/{meta['state']['run_name']}"
    url = f"http://127.0.0.1:{port}/app/api/scalar/list?run={run}&tag=eval/acc"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = json.load(response)
                if body["data"]:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "visualdl server did not answer within 60 s"
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(10)
    served = [value for _, _, value in body["data"]]
    assert served == pytest.approx([r["eval_acc"] for r in meta["state"]["history"]], abs=1e-6)


def test_resume_after_a_kill_continues_at_the_right_epoch(tmp_path, mnist_root):
    args = ["-o", "train.epochs=3", "-o", "train.max_steps_per_epoch=40",
            "-o", "optimizer.lr_schedule.name=step", "-o", "optimizer.lr_schedule.step_size=1",
            "-o", "optimizer.lr_schedule.gamma=0.5"]
    env = dict(os.environ, PADDLE_MNIST_DATA=mnist_root)
    first = subprocess.Popen([sys.executable, str(REPO / "tools" / "train.py"), "-c",
                              str(REPO / "configs" / "lenet.yml"), *args],
                             cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    sidecar = tmp_path / "output" / "mnist.meta.json"
    deadline = time.time() + 300
    while not sidecar.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done = json.loads(sidecar.read_text())["state"]["epochs_done"]
    assert done < 3, "the run finished before it could be interrupted"
    proc = run_tool("train.py", "--resume", "output/mnist", cwd=tmp_path, data_root=mnist_root)
    meta = json.loads(sidecar.read_text())
    history = meta["state"]["history"]
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert [r["lr"] for r in history] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert meta["state"]["steps_done"] == 120
    assert "after 3 epochs" in proc.stdout


def _quick_config(path, folder, mnist_root, *extra):
    return load_config(str(path), ["train.epochs=1", "train.max_steps_per_epoch=5",
                                   "train.log_freq=5", f"data.root={mnist_root}",
                                   f"output.checkpoint={folder}/mnist",
                                   f"output.log_dir={folder}/logs", *extra])


def test_same_seed_same_result(tmp_path, mnist_root):
    path = REPO / "configs" / "lenet.yml"
    runs = [engine.train(plan(config=_quick_config(path, tmp_path / str(i), mnist_root,
                                                          "train.max_steps_per_epoch=30")))
            for i in range(2)]
    assert runs[0].test == runs[1].test
    assert runs[0].state.history[0].train_loss == runs[1].state.history[0].train_loss


@pytest.mark.parametrize("path", sorted(glob.glob(str(REPO / "configs" / "*.yml"))),
                         ids=os.path.basename)
def test_every_config_trains(tmp_path, mnist_root, path):
    if os.path.basename(path).startswith(("sweep", "ablation")):
        pytest.skip("grid definitions for tools/sweep.py, not a single run")
    from paddle_mnist.scoring import score_checkpoint

    config = _quick_config(path, tmp_path, mnist_root)
    result = engine.train(plan(config=config))
    assert result.state.epochs_done == 1 and result.epochs_trained == 1
    record = result.state.history[0]
    assert record.train_loss > 0 and 0 <= record.lr <= config.optimizer.learning_rate
    # what was saved is what was scored: the checkpoint alone gives the same test score
    saved = score_checkpoint(f"{tmp_path}/mnist", [f"data.root={mnist_root}"])
    assert saved["samples"] == result.test["samples"] == 10000
    assert saved["acc"] == pytest.approx(result.test["acc"], abs=1e-9)
    assert saved["loss"] == pytest.approx(result.test["loss"], rel=1e-5)


@pytest.mark.slow
def test_lenet_tutorial_recipe_reaches_98_2_percent(tmp_path, mnist_root):
    proc = run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", cwd=tmp_path,
                    data_root=mnist_root, timeout=1800)
    meta = json.loads((tmp_path / "output" / "mnist.meta.json").read_text())
    assert meta["state"]["epochs_done"] == 5
    assert meta["test"]["acc"] >= 0.982, proc.stdout[-2000:]
    result = json.loads(run_tool("eval.py", "--resume", "output/mnist", "--json",
                                 cwd=tmp_path, data_root=mnist_root).stdout)
    assert result["acc"] == pytest.approx(meta["test"]["acc"], abs=1e-9)
