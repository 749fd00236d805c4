"""Export round trip on real MNIST: Paddle Inference and ONNX Runtime match dygraph."""

import json
import os
import re
import threading

import numpy as np
import pytest

from conftest import REPO, run_tool


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_root):
    """A briefly trained LeNet (output/mnist) and its export with ONNX (inference/mnist)."""
    folder = tmp_path_factory.mktemp("export")
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=300", cwd=folder, data_root=mnist_root)
    proc = run_tool("export.py", "--resume", "output/mnist", "--onnx", cwd=folder,
                    data_root=mnist_root)
    return folder, proc


@pytest.fixture(scope="module")
def test_images(mnist_root):
    from paddle_mnist.data import read_mnist

    images, labels = read_mnist(mnist_root, "test")
    return images[-1000:], labels[-1000:]  # not the 256 the export itself checked


def test_export_writes_and_lists_the_files_and_its_check(trained):
    folder, proc = trained
    files = ["inference/mnist.json", "inference/mnist.pdiparams", "inference/mnist.onnx",
             "inference/mnist.preprocess.json"]
    assert proc.stdout.split("files written:\n")[1].split() == files
    assert all((folder / f).stat().st_size > 0 for f in files)
    assert not [n for n in os.listdir(folder / "inference") if n.startswith(".export")]
    diffs = re.findall(r"verified (\w+): max abs logit difference (\S+) vs dygraph, same "
                       r"prediction on 256/256 test images", proc.stdout)
    assert [backend for backend, _ in diffs] == ["paddle", "onnx"]
    assert all(float(diff) <= 1e-4 for _, diff in diffs)


def test_preprocessing_description_is_all_a_predictor_needs(trained):
    folder, _ = trained
    spec = json.loads((folder / "inference" / "mnist.preprocess.json").read_text())
    assert {k: spec[k] for k in ("model", "input_size", "mean", "std", "source", "source_epoch")} \
        == {"model": "lenet", "input_size": 28, "mean": 127.5, "std": 127.5,
            "source": "output/mnist", "source_epoch": 1}
    assert spec["class_names"] == [str(d) for d in range(10)]
    assert sorted(spec["files"]) == [".json", ".onnx", ".pdiparams"]


def test_all_backends_give_the_dygraph_logits(trained, test_images):
    from paddle_mnist.predictors import open_predictor

    folder, _ = trained
    images, labels = test_images
    dygraph = open_predictor(str(folder / "output" / "mnist"))
    reference = dygraph.logits(images)
    for backend in ("paddle", "onnx"):
        logits = open_predictor(str(folder / "inference" / "mnist"), backend).logits(images)
        assert logits.shape == (1000, 10)
        assert np.abs(logits - reference).max() <= 1e-4, backend
        assert (logits.argmax(1) == reference.argmax(1)).all(), backend
    assert (reference.argmax(1) == labels).mean() > 0.9
    probabilities = dygraph.probabilities(images[:5])
    assert probabilities.sum(1) == pytest.approx(np.ones(5), abs=1e-5)


@pytest.mark.parametrize("backend", ["paddle", "onnx"])
def test_predictor_is_safe_to_share_between_threads(trained, test_images, backend):
    from paddle_mnist.predictors import open_predictor

    predictor = open_predictor(str(trained[0] / "inference" / "mnist"), backend)
    batches = [test_images[0][i * 37:(i + 1) * 37 + i] for i in range(8)]  # varied sizes
    expected = [predictor.logits(batch) for batch in batches]
    results = [None] * len(batches)

    def work(i):
        for _ in range(5):
            results[i] = predictor.logits(batches[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_32x32_network_round_trip(tmp_path, mnist_root, test_images):
    from paddle_mnist.predictors import open_predictor

    run_tool("train.py", "-c", REPO / "configs" / "two_scale.yml", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=30", cwd=tmp_path, data_root=mnist_root)
    run_tool("export.py", "--resume", "output/mnist", "--output", "deep/new/folder/m",
             "--onnx", cwd=tmp_path, data_root=mnist_root)
    reference = open_predictor(str(tmp_path / "output" / "mnist")).logits(test_images[0])
    for backend in ("paddle", "onnx"):
        predictor = open_predictor(str(tmp_path / "deep/new/folder/m"), backend)
        assert predictor.spec.input_size == 32
        assert np.abs(predictor.logits(test_images[0]) - reference).max() <= 1e-4


def test_stale_or_altered_model_files_are_refused(trained, tmp_path, mnist_root):
    from paddle_mnist.errors import ExportError
    from paddle_mnist.predictors import open_predictor

    folder, _ = trained
    run_tool("export.py", "--resume", folder / "output" / "mnist", "--output", "m", "--onnx",
             cwd=tmp_path, data_root=mnist_root)
    run_tool("export.py", "--resume", folder / "output" / "mnist", "--output", "m",
             cwd=tmp_path, data_root=mnist_root)  # leaves the earlier m.onnx behind
    with pytest.raises(ExportError, match=r"m.preprocess.json lists no .onnx file; run "
                                          r"tools/export.py with --onnx again"):
        open_predictor(str(tmp_path / "m"), "onnx")
    with open(tmp_path / "m.pdiparams", "r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\0\0\0\0")
    with pytest.raises(ExportError, match=r"m.pdiparams does not match .*m.preprocess.json"):
        open_predictor(str(tmp_path / "m"), "paddle")
    with pytest.raises(ExportError, match="is a training checkpoint; the onnx backend needs"):
        open_predictor(str(folder / "output" / "mnist"), "onnx")


def test_failed_verification_writes_nothing(trained, tmp_path, mnist_root, monkeypatch):
    from paddle_mnist import export
    from paddle_mnist.errors import ExportError

    monkeypatch.setenv("PADDLE_MNIST_DATA", mnist_root)
    with pytest.raises(ExportError, match=r"the exported paddle model differs from the "
                                          r"checkpoint by up to \S+ \(> -1\)"):
        export.export(str(trained[0] / "output" / "mnist"), str(tmp_path / "m"), tolerance=-1)
    assert os.listdir(tmp_path) == []


def test_unwritable_output_is_one_clear_error(trained, tmp_path, mnist_root):
    folder, _ = trained
    (tmp_path / "a_file").write_text("not a folder")
    for output, problem in (("a_file/mnist", "a_file: it is a file"),
                            ("a_file/sub/mnist", "a_file/sub: Not a directory")):
        proc = run_tool("export.py", "--resume", folder / "output" / "mnist", "--output",
                        output, cwd=tmp_path, data_root=mnist_root, check=False)
        assert proc.returncode == 1
        assert proc.stderr.strip().splitlines() == [
            f"error: cannot write to folder {problem}; choose another --output"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_clear_error(trained, tmp_path, mnist_root):
    folder, _ = trained
    target = tmp_path / "ro"
    target.mkdir()
    target.chmod(0o555)
    proc = run_tool("export.py", "--resume", folder / "output" / "mnist", "--output",
                    "ro/mnist", cwd=tmp_path, data_root=mnist_root, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: cannot write to folder ro: Permission denied; choose another --output"]
