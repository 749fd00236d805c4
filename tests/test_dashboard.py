"""The VisualDL dashboard of real short runs, read back with VisualDL's own LogReader.

Every component a run logs (scalars, images, PR and ROC curves, histograms,
embeddings, hyper parameters, the graph), the config switches, and a run
killed with SIGKILL and resumed: one record file, one series per scalar.
"""

import glob
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_tool

SHORT = ["-c", "lenet", "-o", "train.epochs=2", "-o", "train.max_steps_per_epoch=30",
         "-o", "optimizer.lr_schedule.name=constant"]


def reader_of(folder, meta):
    from visualdl import LogReader

    run = folder / "logs" / meta["state"]["run_name"]
    [path] = glob.glob(str(run / "vdlrecords.*"))
    assert os.path.basename(path) == meta["state"]["log_file"]
    return LogReader(file_path=path)


def ids(reader, kind, tag):
    return [value.id for value in reader.get_data(kind, tag)]


def meta_of(folder):
    return json.loads((folder / "output" / "mnist.meta.json").read_text())


@pytest.fixture(scope="module")
def run(tmp_path_factory, mnist_root):
    """2 epochs of 30 steps with the default dashboard, plus gradient histograms."""
    folder = tmp_path_factory.mktemp("dashboard")
    run_tool("train.py", *SHORT, "-o", "visualdl.gradients=true", cwd=folder,
             data_root=mnist_root)
    meta = meta_of(folder)
    return folder, meta, reader_of(folder, meta)


def test_scalars_per_step_and_per_epoch(run):
    _, meta, reader = run
    history = meta["state"]["history"]
    # train/* every 10 global steps; eval and epoch scalars by epoch
    for tag in ("train/loss", "train/acc", "train/lr"):
        assert ids(reader, "scalar", tag) == [10, 20, 30, 40, 50, 60], tag
    for tag in ("eval/acc", "eval/loss", "epoch/train_seconds", "epoch/images_per_second"):
        assert ids(reader, "scalar", tag) == [1, 2], tag
    values = {tag: [v.value for v in reader.get_data("scalar", tag)]
              for tag in ("eval/acc", "eval/loss", "epoch/images_per_second")}
    assert values["eval/acc"] == pytest.approx([r["eval_acc"] for r in history], abs=1e-6)
    assert values["eval/loss"] == pytest.approx([r["eval_loss"] for r in history], rel=1e-5)
    # 30 steps of 64 images in about the seconds the sidecar recorded for the epoch
    for rate, record in zip(values["epoch/images_per_second"], history):
        assert rate == pytest.approx(30 * 64 / record["train_seconds"], rel=0.25)
    [test_acc] = reader.get_data("scalar", "test/acc")
    assert (test_acc.id, test_acc.value) == (2, pytest.approx(meta["test"]["acc"], abs=1e-6))


def _png(record):
    return Image.open(io.BytesIO(record.image.encoded_image_string))


def test_images_samples_mistakes_and_confusion_matrix(run):
    _, _, reader = run
    assert ids(reader, "image", "train/samples") == [0]
    # visualdl.images_every is 5: of 2 epochs, the last one (always shown)
    assert ids(reader, "image", "eval/mistakes") == [2]
    assert ids(reader, "image", "eval/confusion_matrix") == [2]
    for tag in ("train/samples", "eval/mistakes", "eval/confusion_matrix"):
        width, height = _png(reader.get_data("image", tag)[0]).size
        assert 400 <= width <= 1200 and 300 <= height <= 1000, tag


def test_pr_and_roc_curves_per_digit(run, mnist_test):
    _, _, reader = run
    counts = np.bincount(mnist_test[1], minlength=10)
    for digit in range(10):
        for kind, tag in (("pr_curve", f"pr/digit_{digit}"), ("roc_curve", f"roc/digit_{digit}")):
            assert ids(reader, kind, tag) == [1, 2], tag
        last = reader.get_data("pr_curve", f"pr/digit_{digit}")[-1].pr_curve
        # at threshold 0 every image is called this digit: all of its test images are hits
        assert (last.TP[0], last.FP[0]) == (counts[digit], 10000 - counts[digit])
        assert last.precision[0] == pytest.approx(counts[digit] / 10000)


def test_weight_and_gradient_histograms(run):
    import paddle

    folder, _, reader = run
    params = paddle.load(str(folder / "output" / "mnist.pdparams"))
    tags = reader.get_tags()["histogram"]
    assert sorted(tags) == sorted([f"weights/{n}" for n in params] +
                                  [f"gradients/{n}" for n in params])
    for name, value in params.items():
        assert ids(reader, "histogram", f"weights/{name}") == [1, 2]
        last = reader.get_data("histogram", f"weights/{name}")[-1].histogram
        assert sum(last.hist) == value.size  # every weight of the last epoch's layer
        assert ids(reader, "histogram", f"gradients/{name}") == [1, 2]


def test_penultimate_embeddings_of_2000_test_digits(run, mnist_test):
    _, _, reader = run
    [record] = reader.get_data("embeddings", "test/penultimate")
    embeddings = record.embeddings
    assert list(embeddings.label_meta) == ["label", "predicted"]
    assert len(embeddings.embeddings) == 2000
    assert {len(e.vectors) for e in embeddings.embeddings} == {84}  # LeNet's fc.1 output
    labels = [e.label[0] for e in embeddings.embeddings]
    assert labels == [f"digit {d}" for d in mnist_test[1][:2000]]
    right = sum(e.label[0] == e.label[1] for e in embeddings.embeddings)
    assert right > 0.8 * 2000  # the predictions of a network that learned something


def test_hyper_parameters_and_their_metrics(run):
    _, meta, reader = run
    [record] = reader.get_data("hyper_parameters", "hparam")
    hparams = {info.name: getattr(info, info.WhichOneof("type"))
               for info in record.hparam.hparamInfos}
    # momentum is left out: only the momentum optimizer uses it
    assert hparams == {"model": "lenet", "optimizer": "adam", "learning_rate": 0.001,
                       "batch_size": 64, "epochs": 2, "schedule": "constant",
                       "augmentation": "false"}
    metrics = [info.name for info in record.hparam.metricInfos]
    assert metrics == ["test/acc", "test/loss", "best/eval_acc", "epoch/train_seconds"]
    for tag in metrics:
        assert reader.get_data("scalar", tag), f"the hparams metric {tag} is logged"


def test_the_graph_is_logged(run):
    folder, meta, _ = run
    [graph] = glob.glob(str(folder / "logs" / meta["state"]["run_name"] / "vdlgraph.*"))
    with open(graph, encoding="utf-8") as f:
        types = {node["type"] for node in json.load(f)["nodes"]}
    assert {"conv2d", "pool2d", "matmul_v2", "FastLeNet"} <= types


def test_each_part_can_be_switched_off(tmp_path, mnist_root):
    parts = ["images", "pr_curves", "roc_curves", "histograms", "embeddings", "graph", "hparams"]
    run_tool("train.py", *SHORT, "-o", "train.epochs=1", *[
        arg for part in parts for arg in ("-o", f"visualdl.{part}=false")],
        cwd=tmp_path, data_root=mnist_root)
    meta = meta_of(tmp_path)
    reader = reader_of(tmp_path, meta)
    assert set(reader.get_tags()) == {"scalar", "meta_data"}
    assert not glob.glob(str(tmp_path / "logs" / "*" / "vdlgraph.*"))


def test_no_visualdl_run_when_disabled(tmp_path, mnist_root):
    proc = run_tool("train.py", *SHORT, "-o", "train.epochs=1", "-o", "visualdl.enabled=false",
                    cwd=tmp_path, data_root=mnist_root)
    assert "VisualDL: off (visualdl.enabled=false)" in proc.stdout
    assert not (tmp_path / "logs").exists()
    assert meta_of(tmp_path)["state"]["log_file"] == ""


def test_a_killed_and_resumed_run_is_one_continuous_run(tmp_path, mnist_root):
    """SIGKILL in epoch 2, after 24 of its 40 steps (points at steps 50 and 60
    logged past the checkpoint of epoch 1), then --resume."""
    env = dict(os.environ, PADDLE_MNIST_DATA=str(mnist_root))
    killed = subprocess.run([sys.executable, str(REPO / "tests" / "faults.py"),
                             "kill-mid-epoch:1:24", *SHORT, "-o", "train.max_steps_per_epoch=40"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr[-2000:]
    meta = meta_of(tmp_path)
    assert meta["state"]["epochs_done"] == 1
    assert ids(reader_of(tmp_path, meta), "scalar", "train/loss") == [10, 20, 30, 40, 50, 60]
    run_tool("train.py", "--resume", "output/mnist", cwd=tmp_path, data_root=mnist_root)
    resumed = meta_of(tmp_path)
    assert resumed["state"]["log_file"] == meta["state"]["log_file"]
    assert len(os.listdir(tmp_path / "logs")) == 1  # no sub-run for the resumed leg
    reader = reader_of(tmp_path, resumed)
    assert ids(reader, "scalar", "train/loss") == [10, 20, 30, 40, 50, 60, 70, 80]
    for kind, tags in reader.get_tags().items():
        for tag in tags if kind != "meta_data" else ():  # LogWriter adds one per leg
            steps = ids(reader, kind, tag)
            assert steps == sorted(set(steps)), f"{kind} {tag}: {steps}"  # no step twice
    assert ids(reader, "scalar", "eval/acc") == [1, 2]
    assert ids(reader, "image", "train/samples") == [0]  # logged once, by the first leg
    assert len(reader.get_data("hyper_parameters", "hparam")) == 1
    values = [v.value for v in reader.get_data("scalar", "eval/acc")]
    assert values == pytest.approx([r["eval_acc"] for r in resumed["state"]["history"]], abs=1e-6)
