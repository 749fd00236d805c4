"""Reading whole numbers: real MNIST test digits composed into numbers and rendered
as users' pictures (photo, scan, drawing pad, ruled paper, tight writing, slant),
read by the real segmentation and a real trained model, in-process and through
tools/predict.py --number and tools/eval.py --numbers.

The model is LeNet trained for one epoch (test_serve_api's, shared per session),
weaker than configs/robust.yml, so the bars here are below the issue's targets,
which docs/reading-numbers.md measures with the robust model.
"""

import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_tool
from paddle_mnist.bench import numbers as render
from paddle_mnist.errors import ImageError
from paddle_mnist.numbers import read_image
from paddle_mnist.reports.numbers import edit_counts, label_of
from paddle_mnist.segment import segment
from test_serve_api import exported_model
from user_images import mnist_test_digits


@pytest.fixture(scope="module")
def model(tmp_path_factory, mnist_root):
    return exported_model(tmp_path_factory, mnist_root)


@pytest.fixture(scope="module")
def predictor(model):
    from paddle_mnist.predictors import open_predictor

    return open_predictor(model)


def numbers(count, seed, lengths=(2, 8)):
    """`count` (digits, label) pairs of real MNIST test digits."""
    digits, labels = mnist_test_digits(count * lengths[1], seed=seed)
    rng = np.random.default_rng(seed)
    out, at = [], 0
    for _ in range(count):
        n = int(rng.integers(lengths[0], lengths[1] + 1))
        out.append((digits[at:at + n], "".join(map(str, labels[at:at + n]))))
        at += n
    return out


def picture(data):
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def read_text(predictor, data):
    return "\n".join("".join(d.digit for d in line) for line in read_image(predictor,
                                                                          picture(data)))


@pytest.mark.parametrize("style", render.STYLES)
def test_segmentation_finds_every_digit(style):
    """Geometry alone (no model): one line with one atom per digit, or the digits
    that touch left for the reader to split; never fewer lines or lost digits."""
    found = 0
    cases = numbers(20, seed=len(style))
    for index, (digits, label) in enumerate(cases):
        lines = segment(picture(render.mnist_number(digits, style, index)))
        assert len(lines) == 1, f"{style} {label}: {len(lines)} lines"
        found += lines[0].atoms == len(label)
    assert found >= 0.85 * len(cases), f"{style}: {found}/{len(cases)} cut into their digits"


def test_reads_numbers_in_every_style(predictor):
    cases = numbers(50, seed=7)
    exact, errors, total = 0, 0, 0
    for index, (digits, label) in enumerate(cases):
        style = render.STYLES[index % len(render.STYLES)]
        read = read_text(predictor, render.mnist_number(digits, style, index))
        exact += read == label
        errors += sum(edit_counts(label, read))
        total += len(label)
    assert exact >= 0.8 * len(cases), f"{exact}/{len(cases)} numbers read exactly"
    assert errors <= 0.06 * total, f"{errors} digit errors in {total}"


def test_lines_are_read_top_to_bottom(predictor):
    (top, top_label), (bottom, bottom_label) = numbers(2, seed=11, lengths=(3, 5))
    rng = np.random.default_rng(0)
    upper = render.compose([render.strokes_of(d, 50, rng) for d in top], rng, 50, (4, 8))
    lower = render.compose([render.strokes_of(d, 50, rng) for d in bottom], rng, 50, (4, 8))
    page = np.zeros((upper.shape[0] + lower.shape[0] + 80, 60 + max(upper.shape[1],
                                                                     lower.shape[1])), np.float32)
    page[20:20 + upper.shape[0], 30:30 + upper.shape[1]] = upper
    page[60 + upper.shape[0]:60 + upper.shape[0] + lower.shape[0], 30:30 + lower.shape[1]] = lower
    read = read_text(predictor, render.scan(page, rng))
    assert read.count("\n") == 1
    assert edit_counts(f"{top_label}{bottom_label}", read.replace("\n", "")) in (
        (0, 0, 0), (0, 0, 1)), read


def test_broken_strokes_and_underline(predictor):
    """A faint pen: every stroke broken by gaps; and a line drawn under the number."""
    cases = numbers(10, seed=5, lengths=(3, 6))
    right = 0
    for index, (digits, label) in enumerate(cases):
        rng = np.random.default_rng(index)
        pieces = []
        for digit in digits:
            strokes = render.strokes_of(digit, 60, rng)
            strokes[strokes.shape[0] // 2 - 1:strokes.shape[0] // 2 + 2] = 0  # broken
            pieces.append(strokes)
        ink = render.compose(pieces, rng, 60, (4, 8))
        page, top = render.on_page(ink, rng, fill=(0.6, 0.8))
        bottom = top + ink.shape[0] + 6
        page[bottom:bottom + 3, 10:-10] = 1.0  # underlined across the page
        right += read_text(predictor, render.scan(page, rng)) == label
    assert right >= 7, f"{right}/10 broken, underlined numbers read"


def test_paper_edge_and_specks_are_left_out(predictor):
    """A scan whose paper ends before the picture does (a dark band along one side),
    with dust around the number."""
    cases = numbers(6, seed=13, lengths=(3, 6))
    right = 0
    for index, (digits, label) in enumerate(cases):
        rng = np.random.default_rng(index)
        ink = render.compose([render.strokes_of(d, 50, rng) for d in digits], rng, 50, (4, 8))
        page, _ = render.on_page(ink, rng, fill=(0.5, 0.7))
        edge = max(4, page.shape[1] // 16)
        page = np.pad(page, ((0, 0), (0, edge + 4)))
        page[:, -edge:] = 0.9  # the table beyond the paper's edge
        for _ in range(12):
            y, x = rng.integers(0, page.shape[0] - 3), rng.integers(0, page.shape[1] - 3)
            page[y:y + 2, x:x + 2] = np.maximum(page[y:y + 2, x:x + 2], 0.8)
        right += read_text(predictor, render.scan(page, rng)) == label
    # a band read as a digit would spoil all six; LeNet misreads a digit or two
    assert right >= 4, f"{right}/6 numbers read beside a paper edge and dust"


def test_touching_digits_are_split(predictor):
    """One pair of digits in each number written so close that they touch: the
    numbers whose pair does touch (one blob) are read only by cutting it."""
    cases = numbers(16, seed=9, lengths=(4, 6))
    right = touching = 0
    for index, (digits, label) in enumerate(cases):
        rng = np.random.default_rng(index)
        pair = int(rng.integers(0, len(label) - 1))
        ink = render.compose([render.strokes_of(d, 50, rng) for d in digits], rng, 50, (4, 8),
                             touching=(pair,))
        data = render.scan(render.on_page(ink, rng)[0], rng)
        if sum(line.atoms for line in segment(picture(data))) < len(label):
            touching += 1
            right += read_text(predictor, data) == label
    assert touching >= 0.5 * len(cases), f"only {touching} numbers have touching digits"
    # Without cutting none of these could be read. Touching digits are the reader's
    # weak point (docs/reading-numbers.md): a 1 touching a neighbour is read as one digit.
    assert right >= 0.25 * touching, f"{right}/{touching} numbers with touching digits read"


def test_one_to_twenty_digits(predictor):
    (one, one_label), = numbers(1, seed=3, lengths=(1, 1))
    (many, many_label), = numbers(1, seed=4, lengths=(20, 20))
    assert read_text(predictor, render.mnist_number(one, "scan", 0)) == one_label
    read = read_text(predictor, render.mnist_number(many, "scan", 1))
    assert sum(edit_counts(many_label, read)) <= 1, (many_label, read)


def test_blank_picture_has_no_digits(predictor):
    blank = np.full((120, 300), 230, np.uint8)
    with pytest.raises(ImageError, match="no digit"):
        read_image(predictor, Image.fromarray(blank))


def test_edit_counts_and_labels():
    assert edit_counts("4071", "4071") == (0, 0, 0)
    assert edit_counts("4071", "471") == (1, 0, 0)
    assert edit_counts("4071", "40711") == (0, 1, 0)
    assert edit_counts("4071", "4011") == (0, 0, 1)
    assert label_of("017_4071_photo.jpg") == ("4071", "photo")
    assert label_of("003_12-345.png") == ("12\n345", "-")
    assert label_of("notes.txt") == (None, None)


def test_predict_number_command(model, tmp_path):
    (digits, label), = numbers(1, seed=21, lengths=(4, 4))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(render.mnist_number(digits, "photo", 3))
    (tmp_path / "blank.png").write_bytes(render.encode(np.full((80, 200), 240, np.uint8), "PNG"))
    args = ["--model", model, "--number", photo, tmp_path / "blank.png"]
    text = run_tool("predict.py", *args, cwd=tmp_path, check=False)
    assert text.returncode == 1
    assert text.stdout.startswith(f"{photo}: {label}  ({' '.join(label)}; least sure digit ")
    assert len(text.stderr.strip().splitlines()) == 2  # the blank file, then the count
    assert "blank.png" in text.stderr and "no digit" in text.stderr
    assert "Traceback" not in text.stderr
    out = run_tool("predict.py", *args, "--json", "--save-debug", tmp_path / "debug",
                   cwd=tmp_path, check=False)
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["number"] == label and first["lines"] == [label]
    width, height = Image.open(photo).size
    for digit in first["digits"]:
        x, y, w, h = digit["box"]
        assert 0 <= x and x + w <= width and 0 <= y and y + h <= height and w > 0 and h > 0
        assert digit["top"][0]["digit"] == digit["digit"]
    assert [d["box"][0] for d in first["digits"]] == sorted(d["box"][0] for d in first["digits"])
    assert "error" in second
    saved = sorted(p.name for p in (tmp_path / "debug").iterdir())
    assert saved[0] == "photo-boxes.png" and len(saved) == 1 + len(label)
    assert Image.open(tmp_path / "debug" / saved[1]).size == (28, 28)


def test_eval_numbers_command(model, tmp_path):
    folder = tmp_path / "numbers"
    run_tool("compose.py", "--out", folder, "--count", 10, cwd=tmp_path)
    out = run_tool("eval.py", "--numbers", folder, "--model", model, "--json", cwd=tmp_path)
    report = json.loads(out.stdout)
    assert report["numbers"] == 10 and set(report["styles"]) == set(render.STYLES)
    assert report["exact"] >= 6
    assert report["digits"] == sum(len(label_of(p.name)[0]) for p in folder.iterdir())
    for failure in report["failures"]:
        assert failure["kind"] in ("segmentation", "recognition", "no digits")


def test_benchmark_read_reports_its_measurements(model, tmp_path):
    """The subcommand runs end to end (its timings are a benchmark's, not checked)."""
    out = run_tool("benchmark.py", "read", "--model", model, "--photos", 2, "--rounds", 1,
                   "--json", cwd=tmp_path)
    report = json.loads(out.stdout)
    assert report["photo_shape"] == [720, 1280] and report["digits"] == 8
    assert report["reads"] == 2 and 0 <= report["read_right"] <= 2
    assert report["read_ms"]["median"] > 0 and report["segment_ms"]["median"] > 0
    assert len(report["machine"]["load_average"]) == 3
