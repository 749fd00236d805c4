"""Learning from labelled data without the service: extra sources in training, and the
update cycle's guards (too few labels, bad labels, two at once, a crash half-way)."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from conftest import REPO, run_tool
from paddle_mnist.store import DigitImage, Recognition, open_store
from paddle_mnist.store.registry import Registry
from test_serve_api import exported_model

QUICK = ["-o", "train.max_steps_per_epoch=40"]


def png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def fill(db, images, labels, given=None):
    """Records of MNIST digits as the service keeps them, labelled (or relabelled)."""
    store = open_store(db)
    try:
        for pixels, label, text in zip(images, labels, given or [str(d) for d in labels]):
            record = store.add(Recognition(kind="digit", model_name="lenet", model_version="v",
                                           result=str(label), probabilities=[0.1] * 10,
                                           latency_ms=1.0, images=[DigitImage(png(pixels))]))
            store.label(record, text)
    finally:
        store.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, mnist_root):
    """An exported LeNet registered as the current version of a fresh record database."""
    from paddle_mnist.exported import read_spec
    from paddle_mnist.service.models import exported_files
    from paddle_mnist.service.recording import model_version

    prefix = exported_model(tmp_path_factory, mnist_root)
    folder = tmp_path_factory.mktemp("update")
    db = folder / "records.db"
    store = open_store(db)
    spec = read_spec(str(prefix))
    Registry(store).add(spec=spec.to_json(), files=exported_files(str(prefix), spec),
                        version=model_version(spec), model_name="lenet",
                        source_checkpoint=str(prefix.parent.parent / "out" / "mnist"),
                        promote=True)
    store.close()
    return folder, db


def test_too_few_and_bad_labels_are_counted_and_skipped(served, mnist_test, mnist_root):
    folder, db = served
    images, labels = mnist_test
    fill(db, images[:6], labels[:6], ["7", "x", "12", "3", "", "9"])
    proc = run_tool("update.py", "--db", db, "--min-new-labels", "10", cwd=folder,
                    data_root=mnist_root)
    assert "skipped 3 labelled record(s): 3 label is not a digit" in proc.stdout
    assert "nothing to do: 3 new labelled digit(s)" in proc.stdout


def test_no_current_version_is_one_line(tmp_path, mnist_root):
    proc = run_tool("update.py", "--db", tmp_path / "empty.db", cwd=tmp_path,
                    data_root=mnist_root, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: sqlite:///") and "has no current model version" in proc.stderr


def test_a_second_update_waits_its_turn_and_a_killed_one_changes_nothing(served, mnist_test,
                                                                         mnist_root):
    folder, db = served
    images, labels = mnist_test
    fill(db, images[100:400], labels[100:400])
    store = open_store(db)
    before = [(v.id, v.status) for v in Registry(store).versions()]
    env = dict(os.environ, PADDLE_MNIST_DATA=str(mnist_root))
    first = subprocess.Popen([sys.executable, str(REPO / "tools" / "update.py"), "--db", str(db),
                              "--epochs", "3", "-o", "train.max_steps_per_epoch=400"],
                             cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.monotonic() + 300
        while not list(folder.glob("updates/*/checkpoint/mnist.meta.json")):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the update did not reach its first epoch"
            time.sleep(0.2)
        second = run_tool("update.py", "--db", db, cwd=folder, data_root=mnist_root, check=False)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert second.stderr.startswith("error: another model update is running on sqlite:///")
        first.send_signal(signal.SIGKILL)  # a crash in the middle of fine-tuning
    finally:
        first.kill()
        first.wait()
    assert [(v.id, v.status) for v in Registry(store).versions()] == before
    store.close()


def test_extra_folders_are_trained_on_cached_and_held_out(tmp_path, mnist_root, mnist_test):
    images, labels = mnist_test
    mine = tmp_path / "mine"
    for digit in range(10):
        (mine / str(digit)).mkdir(parents=True)
    for index in range(200):
        Image.fromarray(255 - images[index]).save(mine / str(labels[index]) / f"{index}.png")
    args = ["-c", "lenet", "-o", "train.epochs=1", *QUICK,
            "-o", "data.extra=[{path: mine, share: 0.25, holdout: 0.2, seed: 3}]"]
    run_tool("train.py", *args, cwd=tmp_path, data_root=mnist_root)
    sidecar = json.loads((tmp_path / "output" / "mnist.meta.json").read_text())
    [extra] = sidecar["extra"]
    assert extra["source"] == "folder mine" and extra["train"] + extra["holdout"] == 200
    assert 20 <= extra["holdout"] <= 60 and all(i.startswith(tuple("0123456789"))
                                                for i in extra["holdout_ids"])
    [cache] = (tmp_path / "output" / "mnist.extra").iterdir()
    stamp = cache.stat().st_mtime_ns
    run_tool("train.py", *args, "-o", "output.checkpoint=output/again", cwd=tmp_path,
             data_root=mnist_root)
    again = json.loads((tmp_path / "output" / "again.meta.json").read_text())["extra"][0]
    assert again["holdout_ids"] == extra["holdout_ids"]  # the same split, run after run
    assert cache.stat().st_mtime_ns == stamp  # the preprocessed arrays came from the cache
    Image.fromarray(255 - images[500]).save(mine / "3" / "0.png")  # a file changed
    run_tool("train.py", *args, cwd=tmp_path, data_root=mnist_root)
    assert len(list((tmp_path / "output" / "mnist.extra").iterdir())) == 2


def test_finetune_takes_extra_data_from_the_command_line(tmp_path, mnist_root, mnist_test):
    images, labels = mnist_test
    (tmp_path / "mine").mkdir()
    for index in range(50):
        Image.fromarray(255 - images[index]).save(tmp_path / "mine" / f"{index}_{labels[index]}.png")
    run_tool("train.py", "-c", "lenet", "-o", "train.epochs=1", *QUICK, cwd=tmp_path,
             data_root=mnist_root)
    run_tool("finetune.py", "--resume", "output/mnist", "--extra-data", "mine", "--epochs", "1",
             *QUICK, cwd=tmp_path, data_root=mnist_root)
    sidecar = json.loads((tmp_path / "output" / "mnist_finetune.meta.json").read_text())
    assert sidecar["config"]["data"]["extra"][0]["path"] == "mine"
    assert sidecar["extra"][0]["train"] + sidecar["extra"][0]["holdout"] == 50
    missing = run_tool("finetune.py", "--resume", "output/mnist", "--extra-data", "nope.db",
                       cwd=tmp_path, data_root=mnist_root, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == ("error: data.extra: record database not found: nope.db "
                                      "(give the file tools/serve.py keeps its records in, e.g. "
                                      "service/records.db)")
    assert not (tmp_path / "nope.db").exists()
