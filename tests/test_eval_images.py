"""tools/eval.py --images: a model scored on a labelled folder of users' pictures."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_tool
from user_images import STYLES, encode, mnist_test_digits

PER_STYLE = 10


@pytest.fixture(scope="module")
def model(tmp_path_factory, mnist_root):
    """LeNet after 300 steps (~97% on MNIST), exported with ONNX to inference/mnist."""
    folder = tmp_path_factory.mktemp("eval_images")
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=300", cwd=folder, data_root=mnist_root)
    run_tool("export.py", "--resume", "output/mnist", "--onnx", cwd=folder, data_root=mnist_root)
    return folder


@pytest.fixture(scope="module")
def photos(model):
    """30 rendered pictures labelled by name, one blank page and one broken file."""
    digits, labels = mnist_test_digits(PER_STYLE * len(STYLES), seed=11)
    folder = model / "mine"
    folder.mkdir()
    for i, (digit, label) in enumerate(zip(digits, labels)):
        style = list(STYLES)[i % len(STYLES)]
        (folder / f"{i:02d}-{style}_{label}.png").write_bytes(STYLES[style](digit, seed=i))
    (folder / "blank_3.png").write_bytes(encode(Image.new("L", (200, 150), 240), "PNG"))
    (folder / "broken_5.png").write_bytes(encode(Image.new("L", (200, 150), 240), "PNG")[:60])
    return folder


def evaluate(model, *args, check=True):
    return run_tool("eval.py", "--images", "mine", *args, cwd=model, check=check)


def test_json_report_counts_every_image(model, photos):
    report = json.loads(evaluate(model, "--resume", "output/mnist", "--json").stdout)
    assert report["samples"] == 32 and report["refused"] == 2
    assert report["correct"] >= 25 and report["accuracy"] == report["correct"] / 32
    assert sorted(r["file"].split("/")[-1] for r in report["refusals"]) == ["blank_3.png",
                                                                           "broken_5.png"]
    reasons = " ".join(report["refusal_reasons"])
    assert "no digit found" in reasons and "truncated or corrupt" in reasons
    assert "mine" not in reasons  # grouped without the file names
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 30 and np.trace(matrix) == report["correct"]
    per_class = {c["class"]: c for c in report["per_class"]}
    assert sum(c["samples"] for c in per_class.values()) == 32
    assert per_class["3"]["refused"] == 1 and per_class["5"]["refused"] == 1
    assert len(report["mistakes"]) == 30 - report["correct"]


def test_text_summary_and_report_files(model, photos):
    out = evaluate(model, "--resume", "output/mnist", "--report", "rep").stdout
    assert "read correctly, 2 refused" in out and "per class: 0 " in out
    assert "refused 1: no digit found" in out
    assert "report: rep/report.json (+ confusion_matrix.png, mistakes.png)" in out
    report = json.loads((model / "rep" / "report.json").read_text())
    assert report["samples"] == 32
    for name in ("confusion_matrix.png", "mistakes.png"):
        with Image.open(model / "rep" / name) as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_exported_backends_agree_with_the_checkpoint(model, photos):
    runs = [json.loads(evaluate(model, *source, "--json").stdout)
            for source in (["--resume", "output/mnist"], ["--model", "inference/mnist"],
                           ["--model", "inference/mnist", "--backend", "onnx"], [])]
    assert len({(r["correct"], r["refused"]) for r in runs}) == 1
    assert runs[-1]["source"] == "output/mnist"  # the default model: inference/mnist's source


@pytest.mark.parametrize("args, status, message", [
    (["--images", "nowhere"], 1, "error: image folder not found: nowhere"),
    (["--images", "empty"], 1, "error: empty holds no images"),
    (["--images", "mine", "--split", "val"], 2, "--split chooses an MNIST split"),
    (["--images", "mine", "--model", "inference/mnist", "-o", "train.seed=1"], 2,
     "-o overrides a checkpoint's config"),
    ([], 2, "give --resume PREFIX"),
    (["--resume", "output/mnist", "--backend", "onnx"], 2, "--model and --backend apply to"),
    (["--images", "mine", "--model", "nothing/here"], 1, "error: no model at nothing/here"),
])
def test_bad_requests_fail_with_one_line(model, photos, args, status, message):
    (model / "empty").mkdir(exist_ok=True)
    proc = run_tool("eval.py", *args, cwd=model, check=False)
    assert proc.returncode == status and message in proc.stderr
    assert "Traceback" not in proc.stderr
