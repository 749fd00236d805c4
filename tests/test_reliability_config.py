"""Bad configs, model names and data files, through the tools as a user runs them.

Each mistake must end in one `error:` line naming the problem, the right exit
status, no traceback, and nothing written: no output/ or logs/ folder
appears in the working directory.
"""

import gzip

import numpy as np
import pytest

from paddle_mnist.data.idx import FILES, IMAGES_MAGIC, LABELS_MAGIC
from paddle_mnist.models import model_names

from conftest import REPO, run_tool
from mnist_files import write_idx, write_split

LENET = str(REPO / "configs" / "lenet.yml")


def assert_one_line_error(proc, status, *fragments):
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line
    return line


def assert_nothing_written(folder, *inputs):
    assert sorted(p.name for p in folder.iterdir()) == sorted(inputs)


@pytest.mark.parametrize("args, fragments", [
    (["-c", LENET, "-o", "train.epoch=2"],
     ["unknown config key 'train.epoch' (did you mean 'train.epochs'?)"]),
    (["-c", "typo.yml"], ["unknown config key 'trian' (did you mean 'train'?)"]),
    (["-c", LENET, "-o", "train.batch_size=abc"],
     ["config key 'train.batch_size' must be int, got 'abc'"]),
    (["-c", LENET, "-o", "train.epochs=0"], ["config key 'train.epochs' is 0; it must be >= 1"]),
    (["-c", LENET, "-o", "optimizer.name=adamx"], ["choose one of: adam, adamw, sgd, momentum"]),
    (["-c", "broken.yml"], ["broken.yml is not valid YAML at line 2, column 1"]),
    (["-c", "missing.yml"], ["config file not found: missing.yml"]),
    (["-c", LENET, "-o", "train.epochs"],
     ["override 'train.epochs' must look like section.key=value"]),
    (["-c", LENET, "-o", "train.epochs=[1"], ["override 'train.epochs=[1': the value is not "
                                              "valid YAML"]),
], ids=["unknown-key", "unknown-section-in-file", "wrong-type", "out-of-range", "bad-choice",
        "malformed-yaml", "missing-file", "override-without-equals", "override-bad-yaml"])
def test_config_mistakes_exit_2_with_one_line_and_write_nothing(tmp_path, args, fragments):
    (tmp_path / "typo.yml").write_text("trian:\n  epochs: 1\n")
    (tmp_path / "broken.yml").write_text("model: [unclosed\n")
    proc = run_tool("train.py", *args, cwd=tmp_path, check=False)
    assert_one_line_error(proc, 2, *fragments)
    assert_nothing_written(tmp_path, "typo.yml", "broken.yml")


def test_error_quoting_a_newline_stays_one_line(tmp_path):
    proc = run_tool("train.py", "-c", LENET, "-o", "train.ep\nochs=1", cwd=tmp_path, check=False)
    assert_one_line_error(proc, 2, "unknown config key 'train.ep\\nochs'")
    assert_nothing_written(tmp_path)


def _fake_split(folder, split, count=64, labels=None):
    rng = np.random.RandomState(0)
    write_split(folder, split, rng.randint(0, 256, (count, 28, 28)),
                rng.randint(0, 10, count if labels is None else labels))


def _damage(folder, damage):
    """A data folder with one realistic problem; returns the file the error must name."""
    folder.mkdir()
    _fake_split(folder, "train", labels=63 if damage == "lengths" else None)
    _fake_split(folder, "test")
    images, labels = (folder / name for name in FILES["train"])
    if damage == "missing-file":
        labels.unlink()
        return labels
    if damage == "truncated-gzip":  # a download cut short
        images.write_bytes(images.read_bytes()[:500])
    elif damage == "wrong-magic":  # labels saved under the images' name
        write_idx(images, LABELS_MAGIC, np.zeros(64))
    elif damage == "short-data":  # complete gzip, but fewer pixels than the header says
        write_idx(images, IMAGES_MAGIC, np.zeros((64, 28, 28)))
        raw = images.read_bytes()
        images.write_bytes(gzip.compress(gzip.decompress(raw)[:-100]))
    return images


@pytest.mark.parametrize("damage, fragment", [
    ("missing-file", "MNIST file not found: "),
    ("truncated-gzip", "is not a complete gzip file"),
    ("wrong-magic", "has IDX magic number 2049, expected 2051"),
    ("short-data", "holds 50076 data bytes but its header promises 50176"),
    ("lengths", "has 64 images but"),
])
def test_broken_data_files_are_named(tmp_path, damage, fragment):
    named = _damage(tmp_path / "data", damage)
    proc = run_tool("train.py", "-c", LENET, "-o", "data.root=data", cwd=tmp_path, check=False)
    line = assert_one_line_error(proc, 1, fragment)
    assert f"data/{named.name}" in line
    assert_nothing_written(tmp_path, "data")


def test_missing_data_folder_says_how_to_fix(tmp_path):
    proc = run_tool("train.py", "-c", LENET, "-o", "data.root=nowhere", cwd=tmp_path,
                    check=False)
    assert_one_line_error(proc, 1, "MNIST folder not found: nowhere",
                          "set data.root or PADDLE_MNIST_DATA")
    assert_nothing_written(tmp_path)


def test_unknown_model_lists_the_registered_names(tmp_path):
    (tmp_path / "data").mkdir()
    _fake_split(tmp_path / "data", "train")
    _fake_split(tmp_path / "data", "test")
    proc = run_tool("train.py", "-c", LENET, "-o", "model.name=lenett", "-o", "data.root=data",
                    cwd=tmp_path, check=False)
    line = assert_one_line_error(proc, 2, "unknown model 'lenett' (did you mean 'lenet'?)")
    assert line.endswith("valid names: " + ", ".join(sorted(model_names())))
    assert_nothing_written(tmp_path, "data")
