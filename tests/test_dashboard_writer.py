"""The VisualDL pieces under the dashboard, against real VisualDL and paddle.

Each workaround in paddle_mnist/dashboard/writer.py has two tests: one that
calls VisualDL's own method and expects the breakage it works around (it
fails once an upgrade fixes VisualDL: then drop the workaround), and one
that the workaround writes what VisualDL reads. Then the record file's
continuation across resumes (dashboard/records.py) on files VisualDL wrote.
"""

import glob
import json
import os

import numpy as np
import paddle
import pytest
from paddle.static import InputSpec
from visualdl import LogReader, LogWriter

from paddle_mnist.dashboard import records
from paddle_mnist.dashboard.writer import Writer, curve_counts
from paddle_mnist.models import create_model

SPEC = [InputSpec([None, 1, 28, 28], "float32", "image")]
LABELS = np.array([1, 0, 1, 1, 0])
SCORES = np.array([0.9, 0.8, 0.6, 0.2, 0.1])


def record_file(folder):
    [path] = glob.glob(os.path.join(folder, "vdlrecords.*"))
    return path


@pytest.mark.parametrize("method", ["add_pr_curve", "add_roc_curve"])
def test_visualdls_own_curves_still_fail_on_numpy_2(tmp_path, method):
    with LogWriter(logdir=str(tmp_path)) as writer, \
            pytest.raises(AttributeError, match="numpy' has no attribute 'float'"):
        getattr(writer, method)("pr", LABELS, SCORES, step=1)


def test_curve_counts_by_hand():
    # thresholds 0, .25, .5, .75, 1: a score at or above one counts as positive
    tp, fp, tn, fn = curve_counts(LABELS, SCORES, thresholds=5)
    assert tp.tolist() == [3, 2, 2, 1, 0] and fp.tolist() == [2, 1, 1, 1, 0]
    assert tn.tolist() == [0, 1, 1, 1, 2] and fn.tolist() == [0, 1, 1, 2, 3]


def test_curve_counts_equal_visualdls_algorithm(monkeypatch):
    """VisualDL's own compute_curve, run with the alias it needs put back for this
    test only, counts exactly what ours does."""
    from visualdl.component.base_component import compute_curve

    rng = np.random.default_rng(0)
    labels, scores = rng.integers(0, 2, 5000), rng.random(5000).astype(np.float32)
    monkeypatch.setattr(np, "float", float, raising=False)
    theirs = compute_curve(labels, scores, num_thresholds=127)
    monkeypatch.undo()
    ours = curve_counts(labels, scores, thresholds=127)
    for name, counts in zip(("tp", "fp", "tn", "fn"), ours):
        assert theirs[name] == counts.tolist(), name


def test_writer_curves_are_read_back_by_visualdl(tmp_path):
    with Writer(logdir=str(tmp_path)) as writer:
        writer.add_pr_curve("pr/digit_1", LABELS, SCORES, step=3, num_thresholds=5)
        writer.add_roc_curve("roc/digit_1", LABELS, SCORES, step=3, num_thresholds=5)
    reader = LogReader(file_path=record_file(tmp_path))
    [pr] = reader.get_data("pr_curve", "pr/digit_1")
    assert pr.id == 3 and list(pr.pr_curve.TP) == [3, 2, 2, 1, 0]
    # nothing passes threshold 1: precision 1 at recall 0, not VisualDL's 0
    assert list(pr.pr_curve.precision) == pytest.approx([3 / 5, 2 / 3, 2 / 3, 1 / 2, 1])
    assert list(pr.pr_curve.recall) == pytest.approx([1, 2 / 3, 2 / 3, 1 / 3, 0])
    [roc] = reader.get_data("roc_curve", "roc/digit_1")
    assert list(roc.roc_curve.tpr) == pytest.approx([1, 2 / 3, 2 / 3, 1 / 3, 0])
    assert list(roc.roc_curve.fpr) == pytest.approx([1, 0.5, 0.5, 0.5, 0])


def test_visualdls_own_graph_still_fails_on_paddle_3(tmp_path, capsys):
    with LogWriter(logdir=str(tmp_path)) as writer, \
            pytest.raises(FileNotFoundError, match="temp.pdmodel"):
        writer.add_graph(create_model("lenet"), SPEC)


def test_writer_graph_is_visualdls_and_leaves_paddle_in_pir_mode(tmp_path):
    with Writer(logdir=str(tmp_path / "logs")) as writer:
        writer.add_graph(create_model("lenet"), SPEC)
    [graph] = glob.glob(str(tmp_path / "logs" / "vdlgraph.*"))
    with open(graph, encoding="utf-8") as f:
        nodes = json.load(f)["nodes"]
    types = {node["type"] for node in nodes}
    assert {"conv2d", "pool2d", "relu", "matmul_v2", "Sequential", "Linear"} <= types
    # the network's own layer (FastLeNet_N after other traces in this process)
    assert any(kind.startswith("FastLeNet") for kind in types)
    assert paddle.framework.get_flags("FLAGS_enable_pir_api")["FLAGS_enable_pir_api"]
    paddle.jit.save(paddle.jit.to_static(create_model("lenet"), SPEC), str(tmp_path / "m"))
    assert os.path.isfile(tmp_path / "m.json")  # paddle 3's PIR format again, outside the guard


def test_old_ir_cannot_trace_tanh(tmp_path):
    """Why lenet5_classic runs have no graph (the dashboard says so and goes on)."""
    spec = [InputSpec([None, 1, 32, 32], "float32", "image")]
    with Writer(logdir=str(tmp_path)) as writer, pytest.raises(TypeError, match="tanh"):
        writer.add_graph(create_model("lenet5_classic"), spec)


# --- one record file across resumes ------------------------------------------

def _run_file(folder):
    """A record file as a run two epochs of 30 steps in, complete, would leave it."""
    with Writer(logdir=str(folder), file_name="vdlrecords.1.log") as writer:
        for step in range(10, 61, 10):
            writer.add_scalar("train/loss", 1 / step, step)
        for epoch in (1, 2):
            writer.add_scalar("eval/acc", 0.9 + epoch / 100, epoch)
            writer.add_histogram("weights/fc.weight", np.arange(10.0) * epoch, epoch)
        writer.add_scalar("test/acc", 0.92, 2)
        writer.add_embeddings("test/penultimate", mat=np.eye(3), metadata=["0", "1", "2"])
        writer.add_hparams({"learning_rate": 0.001}, ["test/acc"])
    return os.path.join(folder, "vdlrecords.1.log")


def _ids(path, kind, tag):
    return [value.id for value in LogReader(file_path=path).get_data(kind, tag)]


def test_a_resume_keeps_only_what_its_checkpoint_covers(tmp_path):
    path = _run_file(tmp_path)
    assert records.continue_file(path, steps=30, epochs=1) == 8
    tags = LogReader(file_path=path).get_tags()
    assert _ids(path, "scalar", "train/loss") == [10, 20, 30]
    assert _ids(path, "scalar", "eval/acc") == [1]
    assert _ids(path, "histogram", "weights/fc.weight") == [1]
    assert "test/acc" not in tags["scalar"]  # the run has not ended yet
    assert "embeddings" not in tags and "hyper_parameters" not in tags
    assert os.listdir(tmp_path) == ["vdlrecords.1.log"]  # no temporary file left


def test_appending_after_a_resume_gives_one_series(tmp_path):
    path = _run_file(tmp_path)
    records.continue_file(path, steps=30, epochs=1)
    with Writer(logdir=str(tmp_path), file_name="vdlrecords.1.log") as writer:  # appends
        for step in range(40, 61, 10):
            writer.add_scalar("train/loss", 1 / step, step)
    assert _ids(path, "scalar", "train/loss") == [10, 20, 30, 40, 50, 60]
    assert len(glob.glob(str(tmp_path / "vdlrecords.*"))) == 1


def test_a_record_torn_by_a_kill_is_cut_off(tmp_path):
    path = _run_file(tmp_path)
    whole = open(path, "rb").read()
    with open(path, "ab") as f:
        f.write(whole[:25])  # the start of a record, as SIGKILL mid-write leaves it
    assert records.read_records(path)[1] is False
    records.continue_file(path, steps=60, epochs=2)
    assert records.read_records(path)[1] is True
    assert _ids(path, "scalar", "train/loss") == [10, 20, 30, 40, 50, 60]


def test_a_file_with_nothing_to_drop_is_left_alone(tmp_path):
    path = _run_file(tmp_path)
    records.continue_file(path, steps=60, epochs=2)  # drops the end-of-run records
    before = open(path, "rb").read()
    os.utime(path, (1, 1))
    assert records.continue_file(path, steps=60, epochs=2) == 0
    assert open(path, "rb").read() == before and os.path.getmtime(path) == 1
