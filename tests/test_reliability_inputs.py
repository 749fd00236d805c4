"""Round two of bad input, through the tools as a careless or hostile user runs them:
configs that cost unbounded time or memory, values that pass a type check but no
code can use, data files that lie about their size, names no terminal can show.

Each case ends in one `error:` line (or a clean result), the right exit status,
no traceback, and nothing written.
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from paddle_mnist.data.idx import FILES, IMAGES_MAGIC

from conftest import REPO, run_tool
from mnist_files import write_split
from test_reliability_config import assert_nothing_written, assert_one_line_error

LENET = str(REPO / "configs" / "lenet.yml")
BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
               for previous, name in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("content, fragment", [
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + BOMB + "model:\n  args:\n    x: *i\n",
     "holds more than 10,000 values once its aliases (*name) are expanded"),
    ("model:\n  args:\n    x: " + "[" * 20000 + "]" * 20000 + "\n", "nests deeper than 32 levels"),
    ("train:\n" + "".join(f"  k{i}: {'x' * 100}\n" for i in range(12000)),
     "is larger than 1,048,576 bytes"),
    ("train:\n  max_steps_per_epoch: 30\nmodel:\n  name: lenet\ntrain:\n  epochs: 5\n",
     "names key 'train' twice at line 5, column 1; keep one of them"),
    ("- a\n- list\n", "not a YAML list"),
], ids=["alias-bomb", "deep-nesting", "huge-file", "duplicate-section", "a-list"])
def test_config_files_that_cost_too_much_are_refused_at_once(tmp_path, content, fragment):
    (tmp_path / "bad.yml").write_text(content)
    proc = run_tool("train.py", "-c", "bad.yml", cwd=tmp_path, check=False, timeout=120)
    line = assert_one_line_error(proc, 2, fragment)
    assert len(line) < 400  # the value itself is never rendered into the message
    assert_nothing_written(tmp_path, "bad.yml")


@pytest.mark.parametrize("override, fragment", [
    ("train.seed=4294967296", "'train.seed' is 4294967296; it must be <= 4294967295"),
    ("optimizer.learning_rate=nan", "'optimizer.learning_rate' is nan; give a finite number"),
    ("optimizer.lr_schedule.warmup_epochs=1e999", "is inf; give a finite number"),
    ("model.args.num_classes=1e11", "num_classes must be an integer from 1 to 10,000"),
    ("model.args.num_classes=100000000000", "num_classes must be an integer from 1 to 10,000"),
    ("model.args.x=" + "[" * 2000 + "]" * 2000, "the value nests deeper than 32 levels"),
    ("model.args.num_classes=" + "9" * 20000, "is longer than 10,000 characters"),
], ids=["seed", "nan", "inf", "num-classes-text", "num-classes-huge", "nested-override",
        "long-override"])
def test_values_no_code_can_use_are_config_errors(tmp_path, override, fragment):
    proc = run_tool("train.py", "-c", LENET, "-o", override, cwd=tmp_path, check=False,
                    timeout=120)
    assert_one_line_error(proc, 2, fragment)
    assert_nothing_written(tmp_path)


def test_network_arguments_paddle_refuses_are_config_errors(tmp_path):
    proc = run_tool("train.py", "-c", "fast", "-o", "model.args.kernel=3",
                    "-o", "model.args.widths=[8, -4]", cwd=tmp_path, check=False)
    assert_one_line_error(proc, 2, "model 'fast_cnn'")
    assert_nothing_written(tmp_path)


def test_a_config_from_a_pipe_is_read(tmp_path):
    """`-c <(printf ...)`: bash passes /dev/fd/N, a pipe, not a regular file."""
    command = (f"{sys.executable} {REPO / 'tools' / 'train.py'} "
               "-c <(printf 'train:\\n  epochs: 0\\n')")
    proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert_one_line_error(proc, 2, "config key 'train.epochs' is 0; it must be >= 1")


def _data(folder, images, labels=None):
    folder.mkdir(exist_ok=True)
    good = np.random.RandomState(0).randint(0, 256, (64, 28, 28))
    write_split(folder, "train", good, np.arange(64) % 10)
    labels = np.arange(len(images)) % 10 if labels is None else labels
    write_split(folder, "test", images, labels)
    return folder


@pytest.mark.parametrize("images, fragment", [
    (np.zeros((64, 20, 20)), "holds 20x20 images; MNIST images are 28x28"),  # pads to 28
    (np.zeros((64, 40, 40)), "holds 40x40 images; MNIST images are 28x28"),
    (np.zeros((0, 28, 28)), "holds no images"),
], ids=["padded-size", "larger", "empty"])
def test_data_that_does_not_fit_the_model_is_refused_before_training(tmp_path, images, fragment):
    _data(tmp_path / "data", images)
    for tool in (["train.py", "-c", LENET], ["eval.py", "--resume", REPO / "tests/fixtures/v1/mnist"]):
        proc = run_tool(*tool, "-o", "data.root=data", cwd=tmp_path, check=False, timeout=120)
        assert_one_line_error(proc, 1, fragment, "t10k-images-idx3-ubyte.gz")
    assert_nothing_written(tmp_path, "data")


def test_an_idx_header_claiming_too_much_is_refused_from_the_header(tmp_path):
    folder = _data(tmp_path / "data", np.zeros((64, 28, 28)))
    header = (IMAGES_MAGIC.to_bytes(4, "big") + (2**31).to_bytes(4, "big")
              + (2**16).to_bytes(4, "big") * 2)
    with gzip.open(folder / FILES["test"][0], "wb") as f:
        f.write(header)
    proc = run_tool("train.py", "-c", LENET, "-o", "data.root=data", cwd=tmp_path, check=False)
    assert_one_line_error(proc, 1, "claims 2147483648x65536x65536 values",
                          "the header is corrupt or it is not an MNIST file")


def test_a_small_gz_that_inflates_hugely_is_refused_without_reading_it_all(tmp_path):
    folder = _data(tmp_path / "data", np.zeros((64, 28, 28)))
    with gzip.open(folder / FILES["test"][0], "wb", compresslevel=1) as f:
        write_header = IMAGES_MAGIC.to_bytes(4, "big") + b"".join(
            n.to_bytes(4, "big") for n in (64, 28, 28))
        f.write(write_header)
        block = bytes(1 << 24)
        for _ in range(64):  # 1 GiB of zeros behind a header promising 50 kB
            f.write(block)
    assert (folder / FILES["test"][0]).stat().st_size < 5 << 20
    # the tool's own peak memory, measured by a parent that runs nothing else
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", measure, sys.executable,
                           str(REPO / "tools" / "train.py"), "-c", LENET, "-o", "data.root=data"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    *lines, peak_kb = proc.stderr.strip().splitlines()
    assert lines == ["error: data/t10k-images-idx3-ubyte.gz holds more than 50176 data bytes "
                     "but its header promises 50176 (64x28x28); the file is truncated or corrupt"]
    assert int(peak_kb) < 1_500_000  # KiB: paddle itself, not the 1 GiB inside the file


def test_eval_report_onto_a_file_fails_before_the_work(tmp_path, mnist_root):
    (tmp_path / "taken").write_text("a file")
    proc = run_tool("eval.py", "--resume", REPO / "tests/fixtures/v1/mnist", "--report", "taken",
                    cwd=tmp_path, data_root=mnist_root, check=False)
    assert_one_line_error(proc, 2, "cannot write the report to taken: it is a file, not a folder")


def test_resuming_a_best_checkpoint_says_what_to_do(tmp_path, mnist_root):
    shutil.copytree(REPO / "tests" / "fixtures" / "v1", tmp_path / "v1")
    for ext in (".pdparams", ".meta.json"):
        shutil.copy(tmp_path / "v1" / f"mnist{ext}", tmp_path / "v1" / f"mnist_best{ext}")
    sidecar = tmp_path / "v1" / "mnist_best.meta.json"
    data = json.loads(sidecar.read_text())
    del data["files"][".pdopt"]  # as a best checkpoint is saved: weights only
    sidecar.write_text(json.dumps(data))
    proc = run_tool("train.py", "--resume", "v1/mnist_best", cwd=tmp_path, data_root=mnist_root,
                    check=False)
    assert_one_line_error(proc, 1, "v1/mnist_best holds weights only",
                          "resume the run's last checkpoint (e.g. v1/mnist)",
                          "python tools/finetune.py --resume v1/mnist_best")


def test_a_truncated_weights_file_with_a_matching_hash_is_one_line(tmp_path, mnist_root):
    shutil.copytree(REPO / "tests" / "fixtures" / "v1", tmp_path / "v1")
    params = tmp_path / "v1" / "mnist.pdparams"
    params.write_bytes(params.read_bytes()[:20000])
    sidecar = tmp_path / "v1" / "mnist.meta.json"
    data = json.loads(sidecar.read_text())
    data["files"][".pdparams"] = hashlib.sha256(params.read_bytes()).hexdigest()
    sidecar.write_text(json.dumps(data))
    for tool in (["eval.py", "--resume", "v1/mnist"], ["export.py", "--resume", "v1/mnist"],
                 ["predict.py", "--resume", "v1/mnist", sidecar],
                 ["train.py", "--resume", "v1/mnist", "-o", "train.epochs=3"]):
        proc = run_tool(*tool, cwd=tmp_path, data_root=mnist_root, check=False)
        assert_one_line_error(proc, 1, "v1/mnist.pdparams is corrupt or truncated")


def test_file_names_with_newlines_and_foreign_bytes_are_printed_safely(tmp_path, mnist_test):
    images, _ = mnist_test
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(images[0]).save(folder / "a.png")
    (folder / "b\nfake: 7 (100.0%).png").write_text("not an image")
    os.rename(os.fsencode(folder / "a.png"), os.fsencode(folder) + b"/\xff\xfe.png")
    # sorts after the non-UTF-8 name, so it shows the folder goes on past that name
    Image.fromarray(images[1]).save(folder / "\uff3a.png")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "predict.py"), "--resume",
                           str(REPO / "tests/fixtures/v1/mnist"), "in"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "b\\nfake: 7 (100.0%).png" in errors[0]
    lines = proc.stdout.splitlines()
    assert len(lines) == 2  # both good files, the one after the odd name included
    assert lines[0].startswith("in/\\xff\\xfe.png: ") and lines[1].startswith("in/\uff3a.png: ")
