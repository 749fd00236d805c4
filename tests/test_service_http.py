"""The production server's edges (issue 17, "The web server"), on real sockets.

An oversized chunked upload is answered 413 JSON once the limit is crossed,
without the server reading the rest; a multipart body of many small parts
gets its own message; SIGTERM with requests in flight lets them finish and
answer before the process exits 0. Plus the page's string tables.
"""

import io
import json
import re
import select
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image

from service_helpers import json_error
from test_serve_api import PROCESSES, exported_model, running_server
from user_images import mnist_test_digits, paper_photo

LIMIT = 5 * 1024 * 1024
WEB = Path(__file__).resolve().parents[1] / "paddle_mnist" / "web"


@pytest.fixture(scope="module")
def model_prefix(tmp_path_factory, mnist_root):
    return exported_model(tmp_path_factory, mnist_root)


@pytest.fixture(scope="module")
def server(model_prefix, tmp_path_factory):
    folder = tmp_path_factory.mktemp("service_http")
    with running_server(model_prefix, folder, "--db", str(folder / "records.db")) as url:
        yield url


def address(url):
    host, port = re.match(r"http://([^:/]+):(\d+)/", url).groups()
    return host, int(port)


def test_an_oversized_chunked_upload_gets_413_and_is_not_read_to_the_end(server):
    total = 40 * 1024 * 1024
    chunk = b"\0" * 65536
    sent = 0
    with socket.create_connection(address(server), timeout=30) as connection:
        connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: test\r\nContent-Type: "
                           b"image/png\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < total and not select.select([connection], [], [], 0)[0]:
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection after answering
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = connection.recv(65536)
            if not data:
                break
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    error = json.loads(body)
    assert error["code"] == "too_large" and "5,242,880 bytes" in error["error"]
    assert b"Content-Security-Policy" in head
    # the server stopped reading near the limit (socket buffers hold a few MB more)
    assert sent < total / 2, f"the client could send {sent:,} bytes"


def test_many_small_parts_get_their_own_message(server):
    fields = {f"field{i}": (None, "x") for i in range(2000)}
    fields["file"] = ("digit.png", b"\x89PNG")
    response = requests.post(server + "api/predict", files=fields, timeout=60)
    error = json_error(response, 413, "too_many_parts")
    assert "parts" in error["error"] and "bytes allowed" not in error["error"]


def big_photos(count):
    """Phone-sized JPEGs (3000x3000): each takes a while to decode and prepare."""
    digits, _ = mnist_test_digits(count, seed=44)
    photos = []
    for i, digit in enumerate(digits):
        image = Image.open(io.BytesIO(paper_photo(digit, seed=i))).resize((3000, 3000))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80)
        photos.append(buffer.getvalue())
    return photos


def test_sigterm_finishes_the_requests_in_flight(model_prefix, tmp_path):
    photos = big_photos(8)
    db = tmp_path / "records.db"
    with running_server(model_prefix, tmp_path, "--db", str(db)) as url:
        connections = []
        for photo in photos:  # every request fully sent before the signal
            connection = socket.create_connection(address(url), timeout=120)
            connection.sendall(b"POST /api/predict HTTP/1.1\r\nHost: test\r\nContent-Type: "
                               b"image/jpeg\r\nContent-Length: %d\r\n\r\n%s" % (len(photo), photo))
            connections.append(connection)
        time.sleep(0.5)  # accepted and being decoded
        server_process = PROCESSES[url]
        server_process.terminate()
        with ThreadPoolExecutor(len(connections)) as pool:
            answers = list(pool.map(read_answer, connections))
        assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers), \
            [a[:80] for a in answers]
        ids = [json.loads(a.partition(b"\r\n\r\n")[2])["id"] for a in answers]
        server_process.wait(timeout=60)
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "api/health", timeout=5)
    assert "stopped" in (tmp_path / "serve.out").read_text()
    with sqlite3.connect(db) as connection:
        assert sorted(r for r, in connection.execute("SELECT id FROM records")) == sorted(ids)


def read_answer(connection):
    with connection:
        answer = b""
        while True:
            data = connection.recv(65536)
            if not data:
                return answer
            answer += data
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"Content-Length: (\d+)", head)
            if length and len(body) >= int(length.group(1)):
                return answer


def test_every_language_table_has_every_string():
    tables = {path.stem: json.loads(path.read_text("utf-8")) for path in
              (WEB / "i18n").glob("*.json")}
    assert set(tables) == {"en", "zh-CN"}
    english = tables["en"]
    used = set(re.findall(r'(?:data-i18n(?:-[a-z-]+)?="|t\[["\']|\bt\(")([a-z_.]+)',
                          "".join(p.read_text("utf-8") for p in WEB.glob("*.*"))))
    assert used - set(english) == set(), "strings used by the pages but missing"
    for name, table in tables.items():
        assert set(table) == set(english), name
        for key, text in table.items():
            assert text.strip(), (name, key)
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}",
                                                                       english[key])), key


def big_photo_png(side=4000):
    """A 16-megapixel colour PNG of a thick '7': small to send, large to decode."""
    from PIL import ImageDraw

    image = Image.new("RGB", (side, side), (225, 222, 215))
    draw = ImageDraw.Draw(image)
    draw.line([(side // 4, side // 4), (3 * side // 4, side // 4), (side // 2, 3 * side // 4)],
              fill=(20, 20, 30), width=side // 25)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_concurrent_big_uploads_are_decoded_one_slot_at_a_time(model_prefix, tmp_path):
    import psutil

    photo = big_photo_png()
    with running_server(model_prefix, tmp_path, "--db", str(tmp_path / "records.db"),
                        "--threads", "8", "--decode-slots", "1", "--decode-wait", "0") as url:
        process = psutil.Process(PROCESSES[url].pid)
        assert requests.post(url + "api/predict", data=photo, timeout=120).status_code == 200
        before = process.memory_info().rss
        peak = [before]

        def send(_):
            return requests.post(url + "api/predict", data=photo, timeout=120)

        def sample_memory():
            for _ in range(60):
                peak.append(process.memory_info().rss)
                time.sleep(0.05)

        with ThreadPoolExecutor(9) as pool:
            sampling = pool.submit(sample_memory)
            answers = list(pool.map(send, range(8)))
            sampling.result()
        statuses = sorted(answer.status_code for answer in answers)
        assert 200 in statuses and 503 in statuses, statuses
        for answer in answers:
            if answer.status_code == 503:
                error = json_error(answer, 503, "busy")
                assert "already decoding 1 images" in error["error"]
                assert answer.headers["Retry-After"] == "1"
        # one 16-megapixel decode at a time: ~240 MB, never 8 of them (~2 GB)
        assert max(peak) - before < 700 * 2**20, f"grew by {(max(peak) - before) >> 20} MB"
        assert requests.post(url + "api/predict", data=photo, timeout=120).status_code == 200
