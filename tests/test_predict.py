"""tools/predict.py on realistic user pictures of real MNIST test digits, and on bad files."""

import json
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import REPO, run_tool
from user_images import STYLES, mnist_test_digits

DIGITS_PER_STYLE = 16


@pytest.fixture(scope="module")
def model(tmp_path_factory, mnist_root):
    """LeNet trained for one full epoch (~98%), exported with ONNX to inference/mnist."""
    folder = tmp_path_factory.mktemp("predict")
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
             cwd=folder, data_root=mnist_root)
    run_tool("export.py", "--resume", "output/mnist", "--onnx", cwd=folder,
             data_root=mnist_root)
    return folder


@pytest.fixture(scope="module")
def photos(model):
    """48 user pictures (16 digits x photo, transparent drawing, drawing pad) -> labels."""
    digits, labels = mnist_test_digits(DIGITS_PER_STYLE * len(STYLES), seed=3)
    folder = model / "photos"
    folder.mkdir()
    truth = {}
    for i, (digit, label) in enumerate(zip(digits, labels)):
        style = list(STYLES)[i % len(STYLES)]
        path = folder / f"{i:02d}-{style}.{'jpg' if style == 'photo' else 'png'}"
        path.write_bytes(STYLES[style](digit, seed=i))
        truth[str(path.relative_to(model))] = int(label)
    return truth


def _predict(model, *args, check=True):
    return run_tool("predict.py", *args, cwd=model, check=check)


def _json_lines(stdout):
    return [json.loads(line) for line in stdout.splitlines()]


def test_recognises_realistic_user_photos(model, photos):
    results = _json_lines(_predict(model, "--model", "inference/mnist", "--json",
                                   "photos").stdout)
    assert [r["file"] for r in results] == sorted(photos)
    right = sum(r["digit"] == photos[r["file"]] for r in results)
    assert right >= 0.95 * len(photos), f"{right}/{len(photos)} recognised"
    assert all(0.1 < r["probability"] <= 1 for r in results)


def test_backends_and_checkpoint_agree(model, photos):
    runs = [_predict(model, *source, "--json", "photos").stdout
            for source in (["--model", "inference/mnist"],
                           ["--model", "inference/mnist", "--backend", "onnx"],
                           ["--resume", "output/mnist"])]
    outcomes = [[(r["digit"], r["probability"]) for r in _json_lines(out)] for out in runs]
    for other in outcomes[1:]:
        assert [d for d, _ in other] == [d for d, _ in outcomes[0]]
        assert np.allclose([p for _, p in other], [p for _, p in outcomes[0]], atol=1e-4)


def test_topk_text_output(model, photos):
    first = sorted(photos)[0]
    line = _predict(model, "--topk", "3", first).stdout.strip()
    assert line.startswith(f"{first}: {photos[first]} (") and line.count("%") == 3
    top = _json_lines(_predict(model, "--topk", "3", "--json", first).stdout)[0]["top"]
    assert [t["probability"] for t in top] == sorted((t["probability"] for t in top),
                                                     reverse=True)
    assert top[0]["digit"] == photos[first] and len({t["digit"] for t in top}) == 3


def test_save_debug_writes_what_the_model_saw(model, photos):
    from paddle_mnist.preprocess import prepare_file

    results = _json_lines(_predict(model, "--json", "--save-debug", "seen", "photos").stdout)
    for result in results:
        seen = np.asarray(Image.open(model / result["debug_image"]))
        assert seen.shape == (28, 28) and seen.dtype == np.uint8
        np.testing.assert_array_equal(seen, prepare_file(str(model / result["file"])))
    assert len({r["debug_image"] for r in results}) == len(photos)


def _png_claiming(width, height):
    """A PNG header for a huge image with no pixel data (a decompression-bomb shape)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_bad_files_get_one_line_each_and_the_rest_is_predicted(model, photos):
    good = sorted(photos)[:3]
    bad = model / "bad"
    bad.mkdir()
    photo = (model / good[0]).read_bytes()
    (bad / "notes.txt").write_text("shopping list: milk, eggs")
    (bad / "empty.png").write_bytes(b"")
    (bad / "truncated.jpg").write_bytes(photo[:len(photo) // 2])
    (bad / "huge.png").write_bytes(_png_claiming(30000, 30000))
    Image.new("L", (300, 300), 230).save(bad / "blank.png")
    bad_files = sorted(f"bad/{name}" for name in ("notes.txt", "empty.png", "truncated.jpg",
                                                  "huge.png", "blank.png"))
    proc = _predict(model, good[0], "bad", good[1], "missing.jpg", good[2], check=False)
    assert proc.returncode == 1
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == good
    errors = proc.stderr.strip().splitlines()
    assert errors[-1] == "6 of the inputs could not be predicted"
    assert len(errors) == 7 and all(line.startswith("error: ") for line in errors[:-1])
    for name, line in zip(bad_files + ["missing.jpg"], errors[:-1]):
        assert name in line
    assert "pixels" in errors[bad_files.index("bad/huge.png")]  # refused by size
    assert "no digit" in errors[bad_files.index("bad/blank.png")]

    records = _json_lines(_predict(model, "--json", "bad", good[0], check=False).stdout)
    assert [r["file"] for r in records] == bad_files + [good[0]]
    assert all("error" in r for r in records[:-1]) and records[-1]["digit"] == photos[good[0]]


def test_missing_model_is_one_clear_error(model, photos):
    proc = _predict(model, "--model", "nowhere/mnist", sorted(photos)[0], check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: no model at nowhere/mnist: expected nowhere/mnist.preprocess.json (written by "
        "tools/export.py) or nowhere/mnist.pdparams (a training checkpoint)"]
