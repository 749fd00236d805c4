"""Evaluation report, curves, data view and results table, on one tiny real checkpoint."""

import json
import shlex

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_tool
from paddle_mnist.checkpoint import read_sidecar
from paddle_mnist.config import load_config
from paddle_mnist.reports import curves, metrics, results


def png_size(path):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        return image.size


def assert_sensible_png(path, min_side=300):
    width, height = png_size(path)
    assert min_side <= width <= 2000 and 150 <= height <= 2000, (path, width, height)


# --- metrics by hand -------------------------------------------------------

def test_confusion_matrix_and_per_class_scores_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])
    matrix = metrics.confusion_matrix(labels, predicted, num_classes=4)
    assert matrix.tolist() == [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    scores = metrics.per_class(matrix)
    assert scores[0] == {"class": 0, "precision": 1.0, "recall": pytest.approx(2 / 3),
                         "f1": pytest.approx(0.8), "support": 3}
    assert scores[1]["precision"] == 0.5 and scores[1]["recall"] == 0.5
    # class 3 is never present nor predicted: zeros, not NaN
    assert (scores[3]["precision"], scores[3]["recall"], scores[3]["f1"]) == (0.0, 0.0, 0.0)


def test_confused_pairs_count_both_directions_and_sort():
    matrix = np.zeros((10, 10), dtype=int)
    matrix[4, 9], matrix[9, 4] = 3, 5     # 9 as 4 is the dominant direction
    matrix[7, 2] = 6
    matrix[1, 8] = 1
    pairs = metrics.confused_pairs(matrix, top=2)
    assert pairs == [{"a": 9, "b": 4, "count": 8, "a_as_b": 5, "b_as_a": 3},
                     {"a": 7, "b": 2, "count": 6, "a_as_b": 6, "b_as_a": 0}]


def test_mistakes_come_most_confident_first():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.05, 0.95]])
    labels = np.array([0, 0, 0, 1])
    assert metrics.mistakes_by_confidence(labels, probs).tolist() == [1, 2]


def test_results_block_is_replaced_between_markers_only():
    document = "# Results\n<!-- results table: python tools/results.py x -->\nold\n" \
               f"{results.END_MARKER}\nafter\n"
    updated = results.replace_block(document, "| new |\n")
    assert updated == ("# Results\n<!-- results table: python tools/results.py x -->\n| new |\n"
                       f"{results.END_MARKER}\nafter\n")
    assert results.replace_block(updated, "| newer |\n").count("| new") == 1
    assert results.replace_block("no marker", "| t |\n") is None


# --- tools on a real checkpoint --------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_root):
    folder = tmp_path_factory.mktemp("reports")
    # a small validation split keeps the per-epoch evaluation cheap
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=2",
             "-o", "train.max_steps_per_epoch=60", "-o", "data.val_split=1000",
             "-o", "output.checkpoint=run/mnist",
             "-o", "output.log_dir=logs", cwd=folder, data_root=mnist_root)
    return folder


def test_eval_report_is_consistent(trained, mnist_root, mnist_test):
    proc = run_tool("eval.py", "--resume", "run/mnist", "--report", "report", cwd=trained,
                    data_root=mnist_root)
    report = json.loads((trained / "report" / "report.json").read_text())
    matrix = np.array(report["confusion_matrix"])
    labels = mnist_test[1]
    assert matrix.sum(axis=1).tolist() == np.bincount(labels, minlength=10).tolist()
    assert report["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())
    assert report["samples"] == len(labels) == matrix.sum()
    assert report["mistakes"] == matrix.sum() - np.trace(matrix)
    # the same weights scored by the engine during training (paddle's Accuracy metric)
    engine_acc = read_sidecar(str(trained / "run" / "mnist")).test.acc
    assert report["accuracy"] == pytest.approx(engine_acc, abs=1e-6)
    for k, scores in enumerate(report["per_class"]):
        assert scores["support"] == matrix[k].sum()
        assert scores["recall"] == pytest.approx(matrix[k, k] / matrix[k].sum())
        assert scores["precision"] == pytest.approx(matrix[k, k] / matrix[:, k].sum())
    pairs = report["confused_pairs"]
    assert len(pairs) == 5 and [p["count"] for p in pairs] == sorted(
        (p["count"] for p in pairs), reverse=True)
    for p in pairs:
        assert p["count"] == matrix[p["a"], p["b"]] + matrix[p["b"], p["a"]]
    assert 0 < report["loss"] < 2.3   # better than chance (ln 10)
    timing = report["inference"]
    assert timing["ms_per_image_batched"] > 0 and timing["ms_per_image_single"] > 0
    top = pairs[0]
    assert f"{top['a']} vs {top['b']}: {top['count']}" in proc.stdout
    assert f"test accuracy {report['accuracy']:.2%}" in proc.stdout
    assert "ms per image" in proc.stdout
    for name in ("confusion_matrix.png", "mistakes.png", "samples.png"):
        assert_sensible_png(trained / "report" / name)


def test_plot_reads_sidecars_and_visualdl_logs_alike(trained, monkeypatch):
    proc = run_tool("plot.py", "run/mnist", "logs", "-o", "curves.png", cwd=trained)
    assert proc.stdout.count("2 epochs") == 2
    assert_sensible_png(trained / "curves.png", min_side=600)
    monkeypatch.chdir(trained)
    from_sidecar, from_logs = curves.load_runs(["run/mnist", "logs"])
    assert from_sidecar.name == from_logs.name
    for metric in curves.METRICS:
        ours, theirs = from_sidecar.series(metric), from_logs.series(metric)
        assert [e for e, _ in ours] == [e for e, _ in theirs] == [1, 2], metric
        assert [v for _, v in ours] == pytest.approx([v for _, v in theirs], rel=1e-5), metric


def test_show_data_draws_images_and_class_balance(tmp_path, mnist_root):
    proc = run_tool("show_data.py", "--augment", "--count", "15", "--out", "data.png",
                    cwd=tmp_path, data_root=mnist_root)
    assert "train: 60000 images" in proc.stdout and "test: 10000 images" in proc.stdout
    width, height = png_size(tmp_path / "data.png")
    assert width >= 600 and height > width * 0.7  # 4 image rows (2 + 2 augmented) + the chart


def test_results_table_row_and_its_command(trained):
    doc = trained / "results.md"
    doc.write_text("# Results\n\n<!-- results table: python tools/results.py run/*/mnist -->\n")
    proc = run_tool("results.py", "run/*", "--update", "results.md", "--configs",
                    REPO / "configs", cwd=trained)
    assert "updated results.md" in proc.stdout
    sidecar = read_sidecar(str(trained / "run" / "mnist"))
    test_acc = sidecar.test.acc
    table = doc.read_text()
    row = next(line for line in table.splitlines() if line.startswith("| lenet |"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[2] == "61,610" and cells[3] == f"{test_acc:.2%}"
    assert cells[4].startswith("98.46%") and cells[7] == "2"
    assert cells[5] == f"{(test_acc - 0.9846) * 100:+.2f}"  # lenet.yml's reference section
    # the command rebuilds exactly the stored config (apart from where files went)
    words = shlex.split(cells[8].strip("`"))
    overrides = [words[i + 1] for i, w in enumerate(words) if w == "-o"]
    rebuilt = load_config(words[words.index("-c") + 1], overrides).to_dict()
    for section in ("model", "data", "train", "optimizer"):
        assert rebuilt[section] == sidecar.config[section]
    assert rebuilt["output"]["checkpoint"] == "run/mnist"
