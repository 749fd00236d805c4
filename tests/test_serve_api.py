"""The HTTP API of tools/serve.py, tested as programs use it: a real server
process on a free local port, a real model, real HTTP requests.

The model is LeNet trained for one epoch and exported with tools/export.py
(once per test session, shared with the browser test); the images are real
MNIST test digits rendered as the photos and drawings users send.
"""

import base64
import contextlib
import io
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import REPO, run_tool
from paddle_mnist.preprocess import prepare_file
from paddle_mnist.exported import ExportSpec
from user_images import STYLES, mnist_test_digits

STARTUP_SECONDS = 180  # importing paddle and loading the model on a busy 2-core machine
URL_LINE = re.compile(r"at (http://\S+/)")
PROCESSES = {}  # base URL -> the running server's process, for tests that signal it


def exported_model(tmp_path_factory, data_root):
    """Train LeNet for one epoch and export it (Paddle + ONNX), once per session."""
    root = tmp_path_factory.getbasetemp() / "serve_model"
    prefix = root / "inference" / "mnist"
    ready = root / "ready"
    if not ready.exists():
        root.mkdir(exist_ok=True)
        run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
                 "-o", f"output.checkpoint={root / 'out' / 'mnist'}",
                 "-o", f"output.log_dir={root / 'logs'}", cwd=root, data_root=data_root)
        run_tool("export.py", "--resume", root / "out" / "mnist", "--output", prefix, "--onnx",
                 cwd=root, data_root=data_root)
        ready.touch()
    return prefix


@contextlib.contextmanager
def running_server(prefix, log_dir, *extra_args):
    """Start tools/serve.py on a port the OS picks; yield its base URL, then stop it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "serve.out", log_dir / "serve.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        # files, not pipes: the request log must never fill a pipe and block the server
        proc = subprocess.Popen([sys.executable, str(REPO / "tools" / "serve.py"),
                                 "--model", str(prefix), "--port", "0", *extra_args],
                                cwd=log_dir, stdout=out, stderr=err)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (match := URL_LINE.search(out_path.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve.py did not start (exit {proc.poll()}):\n"
                            f"{out_path.read_text()}\n{err_path.read_text()}")
            time.sleep(0.2)
        PROCESSES[match.group(1)] = proc
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # reached only when the tests passed: nothing failed inside the server either
    log = err_path.read_text()
    assert "Traceback" not in log, f"the server logged an error:\n{log}"
    assert proc.returncode == 0, f"serve.py did not stop cleanly on SIGTERM:\n{log}"


@pytest.fixture(scope="module")
def model_prefix(tmp_path_factory, mnist_root):
    return exported_model(tmp_path_factory, mnist_root)


@pytest.fixture(scope="module")
def server(model_prefix, tmp_path_factory):
    with running_server(model_prefix, tmp_path_factory.mktemp("serve")) as url:
        yield url


@pytest.fixture(scope="module")
def user_files(mnist_root):
    """24 real test digits, each rendered in one of the user-image styles."""
    digits, labels = mnist_test_digits(24, seed=8)
    styles = list(STYLES.values())
    return [(styles[i % len(styles)](digit, seed=i), int(label))
            for i, (digit, label) in enumerate(zip(digits, labels))]


def post_image(url, data, multipart):
    if multipart:
        return requests.post(url + "api/predict", files={"file": ("digit.img", data)}, timeout=60)
    return requests.post(url + "api/predict", data=data, timeout=60,
                         headers={"Content-Type": "image/png"})


def decode_png(text):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))))


def assert_json_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == status and body["error"].strip()
    assert "Traceback" not in response.text
    return body["error"]


def test_health_describes_the_model(server):
    response = requests.get(server + "api/health", timeout=30)
    assert response.status_code == 200
    health = response.json()
    assert health["model"] == "lenet"
    assert health["input"] == {"size": 28, "mean": 127.5, "std": 127.5}
    assert health["classes"] == [str(d) for d in range(10)]
    assert health["limits"]["max_body_bytes"] == 5 * 1024 * 1024


def test_user_photos_are_recognised(server, user_files):
    correct = 0
    for index, (data, label) in enumerate(user_files):
        response = post_image(server, data, multipart=index % 2 == 0)
        assert response.status_code == 200, response.text
        answer = response.json()
        probabilities = np.array(answer["probabilities"])
        assert probabilities.shape == (10,) and abs(probabilities.sum() - 1) < 1e-4
        assert answer["digit"] == int(probabilities.argmax())
        assert answer["label"] == str(answer["digit"])
        assert answer["latency_ms"] > 0
        # the image the server reports is the one the shared preprocessing makes
        np.testing.assert_array_equal(decode_png(answer["image"]), prepare_file(data))
        correct += answer["digit"] == label
    assert correct >= 0.9 * len(user_files), f"{correct}/{len(user_files)} recognised"


def png_bytes(array, mode=None):
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, "PNG")
    return buffer.getvalue()


def bad_bodies():
    blank = png_bytes(np.full((200, 200), 255, np.uint8))
    valid = png_bytes(np.eye(64, dtype=np.uint8) * 255)
    huge = io.BytesIO()
    Image.new("1", (5000, 4000)).save(huge, "PNG")  # 20 MP that compress to a few kB
    return {
        "empty": (b"", False, "empty request"),
        "text": (b"hello, this is not a picture", False, "not an image"),
        "truncated png": (valid[: len(valid) // 2], True, "truncated or corrupt"),
        "blank page": (blank, True, "no digit found"),
        "too many pixels": (huge.getvalue(), False, "5000x4000 pixels"),
    }


@pytest.mark.parametrize("case", list(bad_bodies()))
def test_bad_bodies_get_400_with_a_reason(server, case):
    data, multipart, reason = bad_bodies()[case]
    assert reason in assert_json_error(post_image(server, data, multipart), 400)


def test_multipart_without_file_field_gets_400(server):
    response = requests.post(server + "api/predict", files={"photo": ("x.png", b"123")},
                             timeout=30)
    assert "'file' field" in assert_json_error(response, 400)


@pytest.mark.parametrize("multipart", [False, True])
def test_oversized_body_gets_413(server, multipart):
    data = np.random.default_rng(0).bytes(6 * 1024 * 1024)
    assert "5,242,880 bytes" in assert_json_error(post_image(server, data, multipart), 413)


def test_unknown_paths_and_methods_get_json_errors(server):
    assert_json_error(requests.get(server + "api/nothing", timeout=30), 404)
    assert_json_error(requests.get(server + "api/predict", timeout=30), 405)
    assert_json_error(requests.get(server + "static/../paddle_mnist/server.py", timeout=30), 404)


def test_page_and_assets_are_served_locally(server):
    page = requests.get(server, timeout=30)
    assert page.status_code == 200 and "<canvas" in page.text
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    # scripts and style sheets; <a href> are links to the other pages
    assets = [link for link in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"',
                                          page.text)
              if link != "data:,"]  # the empty favicon, so browsers ask for none
    assert sorted(assets) == ["/static/app.js", "/static/bars.js", "/static/feedback.js",
                              "/static/i18n.js", "/static/number.js", "/static/pen.js",
                              "/static/style.css"]
    for asset in assets:
        response = requests.get(server + asset.lstrip("/"), timeout=30)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text


def test_concurrent_requests_get_their_own_answers(server, mnist_root):
    """8 threads x 50 requests: every answer equals the one a lone request got.

    Small canvas-sized drawings keep preprocessing cheap, so the threads really
    overlap in the shared predictor instead of queueing behind image decoding.
    """
    digits, labels = mnist_test_digits(8, seed=9)
    files = [png_bytes(np.kron(digit, np.ones((3, 3), np.uint8))) for digit in digits]
    expected = [post_image(server, data, False).json() for data in files]
    assert sum(answer["digit"] == label for answer, label in zip(expected, labels)) >= 7

    def client(thread):
        answers = []
        for request in range(50):
            which = (thread + request) % len(files)
            response = post_image(server, files[which], multipart=request % 2 == 0)
            answers.append((which, response.status_code, response.json()))
        return answers

    with ThreadPoolExecutor(8) as pool:
        results = [answer for answers in pool.map(client, range(8)) for answer in answers]
    assert len(results) == 400
    for which, status, answer in results:
        assert status == 200, answer
        assert answer["digit"] == expected[which]["digit"]
        np.testing.assert_allclose(answer["probabilities"], expected[which]["probabilities"],
                                   atol=1e-6)
        assert answer["image"] == expected[which]["image"]


def test_onnx_backend_gives_the_same_answers(model_prefix, server, user_files, tmp_path):
    with running_server(model_prefix, tmp_path, "--backend", "onnx") as onnx_server:
        health = requests.get(onnx_server + "api/health", timeout=30).json()
        assert health["model"] == "lenet"
        for data, _ in user_files[:6]:
            paddle_answer = post_image(server, data, False).json()
            onnx_answer = post_image(onnx_server, data, True).json()
            assert onnx_answer["digit"] == paddle_answer["digit"]
            np.testing.assert_allclose(onnx_answer["probabilities"],
                                       paddle_answer["probabilities"], atol=1e-4)


def test_missing_model_is_a_one_line_error(tmp_path):
    proc = run_tool("serve.py", "--model", tmp_path / "nothing", cwd=tmp_path, check=False,
                    timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no model at") and "Traceback" not in proc.stderr


def test_a_port_in_use_is_reported_plainly(model_prefix, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run_tool("serve.py", "--model", model_prefix, "--port", port, cwd=tmp_path,
                        check=False, timeout=120)
    assert proc.returncode == 1
    assert f"Port {port} is in use" in proc.stderr and "Traceback" not in proc.stderr


class BrokenPredictor:
    """A predictor whose model fails, as a corrupt runtime would."""

    spec = ExportSpec(model="lenet", input_size=28, mean=127.5, std=127.5,
                      class_names=[str(d) for d in range(10)])

    def probabilities(self, images):
        raise RuntimeError("secret internal detail")


def test_a_failing_model_gets_a_json_500_without_details(tmp_path):
    from paddle_mnist.server import create_app
    from paddle_mnist.service.models import FixedModel
    from paddle_mnist.store import open_store

    store = open_store(tmp_path / "records.db")
    client = create_app(FixedModel(BrokenPredictor(), "broken"), store).test_client()
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255
    response = client.post("/api/predict", data=png_bytes(digit),
                           headers={"Content-Type": "image/png"})
    assert response.status_code == 500 and response.is_json
    assert response.json["status"] == 500
    assert "secret" not in response.text and "Traceback" not in response.text
    assert store.stats("broken")["records"] == 0  # no answer, no record
