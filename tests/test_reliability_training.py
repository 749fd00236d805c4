"""Crashes, Ctrl-C, exploding losses, full disks and concurrent runs, with real processes.

Every test runs tools/train.py as a user would; faults that must land at an
exact moment are injected by tests/faults.py. The checks are about the
user's work: the last good checkpoint still loads, `--resume` ends where an
uninterrupted run ends (same epochs, steps and learning rates), and nothing
is left half-written.
"""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from paddle_mnist import checkpoint

from conftest import REPO, run_tool
from mnist_files import write_subset

FAULTS = REPO / "tests" / "faults.py"
# two short epochs; cosine decays per step, so a lost or repeated step changes the rates
QUICK = ["-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=2",
         "-o", "train.max_steps_per_epoch=30", "-o", "data.val_split=500",
         "-o", "optimizer.lr_schedule.name=cosine",
         "-o", "output.checkpoint=out/mnist", "-o", "output.log_dir=out/logs"]
PREFIX = "out/mnist"


def faulty(fault, *args, cwd, data_root, background=False):
    """tools/train.py with `fault` injected (see tests/faults.py)."""
    command = [sys.executable, str(FAULTS), fault, *map(str, args)]
    env = dict(os.environ, PADDLE_MNIST_DATA=str(data_root))
    if background:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def files_of(folder, prefix=PREFIX):
    """{file name: bytes} of every file of the checkpoint (and its _best) in `folder`."""
    out = folder / os.path.dirname(prefix)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()}


def wait_for(path, proc, seconds=180):
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, f"exited {proc.returncode}: {proc.communicate()}"
        assert time.time() < deadline, f"{path} did not appear"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def data(tmp_path_factory, mnist_root):
    """A real 2,500 + 1,000 image subset: these runs test recovery, not accuracy."""
    return write_subset(mnist_root, tmp_path_factory.mktemp("mnist"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data):
    """The uninterrupted run every recovered run must match."""
    folder = tmp_path_factory.mktemp("reference")
    run_tool("train.py", *QUICK, cwd=folder, data_root=data)
    return checkpoint.load_checkpoint(str(folder / PREFIX))


def assert_same_as_reference(folder, reference):
    done = checkpoint.load_checkpoint(str(folder / PREFIX))
    state, expected = done.sidecar.state, reference.sidecar.state
    assert [r.epoch for r in state.history] == [1, 2]
    assert (state.epochs_done, state.steps_done) == (2, 60)
    assert state.epoch_steps_done == 0
    assert [r.lr for r in state.history] == pytest.approx([r.lr for r in expected.history],
                                                          rel=1e-9)
    weights = {k: v for k, v in reference.params.items() if isinstance(v, np.ndarray)}
    assert weights
    for name, value in weights.items():  # same batches, same updates
        np.testing.assert_allclose(done.params[name], value, rtol=1e-4, atol=1e-5)
    assert not list((folder / "out").glob("*.tmp*")) and not list((folder / "out").glob("*.prev*"))
    assert not (folder / (PREFIX + ".lock")).exists()


def test_sigkill_mid_epoch_keeps_last_epoch_and_resume_matches(tmp_path, data, reference):
    killed = faulty("kill-mid-epoch:1:10", *QUICK, cwd=tmp_path, data_root=data)
    assert killed.returncode == -signal.SIGKILL
    saved = checkpoint.load_checkpoint(str(tmp_path / PREFIX))
    assert saved.epoch == 1
    assert (tmp_path / (PREFIX + ".lock")).exists()  # SIGKILL leaves the lock file behind
    resumed = run_tool("train.py", "--resume", PREFIX, cwd=tmp_path, data_root=data)
    assert "taking over out/mnist.lock from a run that is no longer running" in resumed.stderr
    assert_same_as_reference(tmp_path, reference)


@pytest.mark.parametrize("fault", ["kill-writing:2", "kill-renaming:2"])
def test_sigkill_while_saving_keeps_a_loadable_checkpoint(tmp_path, data, reference,
                                                          fault, capsys):
    killed = faulty(fault, *QUICK, cwd=tmp_path, data_root=data)
    assert killed.returncode == -signal.SIGKILL
    if fault.startswith("kill-renaming"):
        # the new .pdparams is in place next to the old .pdopt and sidecar: a torn set
        sidecar = checkpoint.read_sidecar(str(tmp_path / PREFIX))
        params = (tmp_path / (PREFIX + ".pdparams")).read_bytes()
        assert sidecar.files[".pdparams"] != hashlib.sha256(params).hexdigest()
    else:
        assert list((tmp_path / "out").glob("mnist.pdparams.tmp*"))
    saved = checkpoint.load_checkpoint(str(tmp_path / PREFIX))
    assert saved.epoch == 1
    if fault.startswith("kill-renaming"):
        assert saved.prefix.endswith("mnist.prev")
        assert "a save was interrupted" in capsys.readouterr().err
    run_tool("train.py", "--resume", PREFIX, cwd=tmp_path, data_root=data)
    assert_same_as_reference(tmp_path, reference)


@pytest.mark.parametrize("signum, status", [
    (signal.SIGINT, 130),    # Ctrl-C
    (signal.SIGTERM, 143),   # kill, systemd, docker stop, Slurm
    (signal.SIGHUP, 129),    # the terminal closed
], ids=["ctrl-c", "sigterm", "sighup"])
def test_a_stop_signal_saves_mid_epoch_and_resume_matches(tmp_path, data, reference, signum,
                                                          status):
    proc = faulty(f"pause:1:10:{tmp_path}", *QUICK, cwd=tmp_path, data_root=data,
                  background=True)
    wait_for(tmp_path / "ready", proc)
    proc.send_signal(signum)  # a real signal, while batch 11 of epoch 2 is loading
    (tmp_path / "go").touch()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == status, err
    assert "Traceback" not in err and "FatalError" not in err
    assert err.strip().splitlines()[-1] == (
        "interrupted: training stopped at epoch 2, step 11 of 30; saved out/mnist; "
        "resume with: python tools/train.py --resume out/mnist")
    state = checkpoint.load_checkpoint(str(tmp_path / PREFIX)).sidecar.state
    assert (state.epochs_done, state.epoch_steps_done, state.steps_done) == (1, 11, 41)
    assert not (tmp_path / (PREFIX + ".lock")).exists()
    run_tool("train.py", "--resume", PREFIX, cwd=tmp_path, data_root=data)
    assert_same_as_reference(tmp_path, reference)


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory, data):
    """A finished one-epoch run with a constant learning rate, to copy and damage."""
    folder = tmp_path_factory.mktemp("one_epoch")
    run_tool("train.py", *QUICK, "-o", "train.epochs=1", "-o",
             "optimizer.lr_schedule.name=constant", cwd=folder, data_root=data)
    return folder


@pytest.mark.parametrize("optimizer, symptom", [("adam", "above 23.0 for 2 steps in a row"),
                                                ("sgd", "loss is nan")])
def test_exploding_loss_stops_and_keeps_the_last_checkpoint(tmp_path, data, one_epoch,
                                                            optimizer, symptom):
    if optimizer == "adam":
        shutil.copytree(one_epoch / "out", tmp_path / "out")
    else:  # SGD's unbounded steps turn the loss into NaN rather than just huge
        run_tool("train.py", *QUICK, "-o", "train.epochs=1", "-o", "optimizer.name=sgd",
                 "-o", "optimizer.learning_rate=0.05", "-o", "optimizer.lr_schedule.name=constant",
                 cwd=tmp_path, data_root=data)
    before = files_of(tmp_path)
    proc = run_tool("train.py", "--resume", PREFIX, "-o", "train.epochs=2",
                    "-o", "optimizer.learning_rate=1e6", cwd=tmp_path, data_root=data,
                    check=False)
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: training diverged: ") and symptom in line
    step = int(line.split("at epoch 2, step ")[1].split(";")[0])
    assert step <= 3  # the rate explodes the weights in the first step
    assert "lower optimizer.learning_rate (now 1e+06); the checkpoint out/mnist (epoch 1) " \
           "is unchanged" in line
    assert files_of(tmp_path) == before


def test_disk_full_while_saving_keeps_the_previous_checkpoint(tmp_path, data, one_epoch):
    shutil.copytree(one_epoch / "out", tmp_path / "out")
    before = files_of(tmp_path)
    proc = faulty("disk-full:1", "--resume", PREFIX, "-o", "train.epochs=2",
                  cwd=tmp_path, data_root=data)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: could not write checkpoint out/mnist: No space left on device; "
        "the previous checkpoint there is unchanged")
    assert "Traceback" not in proc.stderr
    assert files_of(tmp_path) == before  # no partial file, no lock, no backup left
    assert checkpoint.load_checkpoint(str(tmp_path / PREFIX)).epoch == 1


@pytest.mark.parametrize("setting, message", [
    ("output.checkpoint=blocker/mnist",
     "error: cannot write to the output folder blocker: it is a file; "
     "set output.checkpoint to a writable path"),
    ("output.checkpoint=blocker/deeper/mnist",
     "error: cannot write to the output folder blocker/deeper: Not a directory; "
     "set output.checkpoint to a writable path"),
    ("output.log_dir=blocker/logs", "error: cannot write VisualDL logs to blocker/logs/"),
])
def test_unwritable_output_is_refused_before_training(tmp_path, data, setting, message):
    # a path through a regular file cannot be created even by root (CI runs as root)
    (tmp_path / "blocker").write_text("a file, not a folder")
    proc = run_tool("train.py", *QUICK, "-o", setting, cwd=tmp_path, data_root=data,
                    check=False)
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(message)
    assert "step 1/" not in proc.stdout  # refused before the first step
    assert not list(tmp_path.glob("out/*.lock"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits; the "
                    "blocker-file cases above cover unwritable output for root")
def test_read_only_output_folder_is_refused(tmp_path, data):
    (tmp_path / "out").mkdir()
    (tmp_path / "out").chmod(0o500)
    proc = run_tool("train.py", *QUICK, cwd=tmp_path, data_root=data, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: cannot write to the output folder out: Permission "
                                   "denied; set output.checkpoint to a writable path")


def test_second_training_on_the_same_prefix_refuses(tmp_path, data):
    first = faulty(f"pause:0:0:{tmp_path}", *QUICK, "-o", "train.epochs=1", cwd=tmp_path,
                   data_root=data, background=True)
    try:
        wait_for(tmp_path / "ready", first)  # holds the lock, paused before its first batch
        second = run_tool("train.py", *QUICK, cwd=tmp_path, data_root=data, check=False)
    finally:
        (tmp_path / "go").touch()
    out, err = first.communicate(timeout=300)
    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert line.startswith(f"error: out/mnist.lock is held by another training (pid "
                           f"{first.pid} on {socket.gethostname()}, started ")
    assert line.endswith("wait for it to finish or set another output.checkpoint")
    assert first.returncode == 0, err
    state = checkpoint.load_checkpoint(str(tmp_path / PREFIX)).sidecar.state
    assert [r.epoch for r in state.history] == [1]  # only the first run wrote here
    assert not (tmp_path / (PREFIX + ".lock")).exists()  # released on exit


def test_a_resume_from_another_folder_writes_where_it_was_resumed_from(tmp_path, data):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    constant = ["-o", "optimizer.lr_schedule.name=constant"]  # so the run may be extended
    run_tool("train.py", *QUICK, *constant, "-o", "train.epochs=1", cwd=tmp_path / "a",
             data_root=data)
    bystander = run_tool("train.py", *QUICK, "-o", "train.epochs=1", cwd=tmp_path / "b",
                         data_root=data)
    assert bystander.returncode == 0
    untouched = files_of(tmp_path / "b")
    # resumed from folder b: its own out/mnist (the saved, relative output path) is not the target
    resumed = run_tool("train.py", "--resume", tmp_path / "a" / PREFIX, "-o", "train.epochs=2",
                       cwd=tmp_path / "b", data_root=data, check=False)
    assert files_of(tmp_path / "b") == untouched
    assert resumed.returncode == 0, resumed.stderr
    assert checkpoint.load_checkpoint(str(tmp_path / "a" / PREFIX)).epoch == 2


def test_extending_a_finished_cosine_run_is_refused_and_changes_nothing(tmp_path, data):
    run_tool("train.py", *QUICK, "-o", "train.epochs=1", cwd=tmp_path, data_root=data)
    before = files_of(tmp_path)
    proc = run_tool("train.py", "--resume", PREFIX, "-o", "train.epochs=2", cwd=tmp_path,
                    data_root=data, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        "error: out/mnist was trained with a cosine schedule laid out for 1 epochs, so "
        "train.epochs cannot change on resume (its rate has reached 0 at the end); to train "
        "more, fine-tune it: python tools/finetune.py --resume out/mnist --epochs N")
    assert files_of(tmp_path) == before
    again = run_tool("train.py", "--resume", PREFIX, cwd=tmp_path, data_root=data)
    assert "nothing left to train: out/mnist already holds 1 epochs" in again.stdout
    assert files_of(tmp_path) == before  # a resume with nothing to do changes nothing


def test_a_checkpoint_name_too_long_for_the_file_system_fails_before_training(tmp_path, data):
    name = "m" * 240  # fits NAME_MAX (255) alone, not with "_best.prev.meta.json.tmp<pid>"
    proc = run_tool("train.py", *QUICK, "-o", f"output.checkpoint=out/{name}", cwd=tmp_path,
                    data_root=data, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: cannot write checkpoint files at out/{name}: File name too long")
    assert "Epoch 1" not in proc.stdout  # nothing trained
    assert not list((tmp_path / "out").glob("m*"))
