"""POST /api/read against a real server process, model and SQLite database: a
photo of a number composed from real MNIST test digits comes back as the
number, each digit's box and probabilities, and a record of kind "number"
that can be corrected; bad input gets the same JSON errors as /api/predict."""

import base64
import io
import shutil
from pathlib import Path

import pytest
import requests
from PIL import Image

from paddle_mnist.bench.numbers import mnist_number
from service_helpers import json_error, label
from test_numbers import numbers
from test_serve_api import exported_model, running_server
from test_service_load import chattr


@pytest.fixture(scope="module")
def server(tmp_path_factory, mnist_root):
    prefix = exported_model(tmp_path_factory, mnist_root)
    folder = tmp_path_factory.mktemp("read_api")
    with running_server(prefix, folder, "--db", str(folder / "records.db")) as url:
        yield url, folder / "records.db"


@pytest.fixture(scope="module")
def photo(mnist_root):
    (digits, number), = numbers(1, seed=31, lengths=(5, 5))
    return mnist_number(digits, "photo", 2), number


def read(url, data, **kwargs):
    return requests.post(url + "api/read", data=data, timeout=60, **kwargs)


def test_a_photo_is_read_and_recorded(server, photo):
    url, _ = server
    data, number = photo
    response = requests.post(url + "api/read", files={"file": ("n.jpg", data)}, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["number"] == number and answer["lines"] == [number]
    assert answer["latency_ms"] > 0 and isinstance(answer["id"], int)
    width, height = Image.open(io.BytesIO(data)).size
    assert answer["size"] == [width, height]
    for digit in answer["digits"]:
        x, y, w, h = digit["box"]
        assert 0 <= x < x + w <= width and 0 <= y < y + h <= height
        assert len(digit["probabilities"]) == 10
        assert digit["probabilities"][int(digit["digit"])] == pytest.approx(digit["probability"])
        assert Image.open(io.BytesIO(base64.b64decode(digit["image"]))).size == (28, 28)
    record = requests.get(f"{url}api/records/{answer['id']}", timeout=30).json()
    assert record["kind"] == "number" and record["result"] == number
    assert [image["png"] for image in record["images"]] == [d["image"] for d in answer["digits"]]
    assert [image["box"] for image in record["images"]] == [
        [x, y, x + w, y + h] for x, y, w, h in (d["box"] for d in answer["digits"])]
    corrected = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert label(url, answer["id"], corrected).json()["label"] == corrected
    again = requests.get(f"{url}api/records/{answer['id']}", timeout=30).json()
    assert again["label"] == corrected and again["wrong"] is True
    json_error(label(url, answer["id"], "12a"), 400)


def test_a_raw_body_reads_the_same(server, photo):
    url, _ = server
    data, number = photo
    answer = read(url, data, headers={"Content-Type": "image/jpeg"}).json()
    assert answer["number"] == number


def test_bad_pictures_get_json_errors(server):
    url, _ = server
    json_error(read(url, b"not a picture"), 400, "not_an_image")
    blank = io.BytesIO()
    Image.new("L", (300, 100), 235).save(blank, "PNG")
    json_error(read(url, blank.getvalue()), 400, "no_digit")
    json_error(read(url, b""), 400)
    json_error(read(url, b"\0" * (6 * 1024 * 1024)), 413, "too_large")


def test_a_database_that_cannot_write_answers_503(server, photo):
    url, db = server
    if shutil.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is needed to make the database read-only under root")
    files = [db, Path(f"{db}-wal")]
    if chattr("+i", files).returncode != 0:
        pytest.skip("this file system does not take chattr +i")
    try:
        json_error(read(url, photo[0]), 503, "database_unavailable")
    finally:
        chattr("-i", files)
    assert read(url, photo[0]).status_code == 200
