"""What the service tests share: drawings as the page sends them, and HTTP helpers."""

import io

import numpy as np
import requests
from PIL import Image

from user_images import mnist_test_digits


def canvas_drawings(count, seed=0, side=84):
    """Real MNIST test digits as dark strokes on a white canvas (PNG), with labels."""
    digits, labels = mnist_test_digits(count, seed=seed)
    files = []
    for digit in digits:
        large = Image.fromarray(255 - digit).resize((side, side), Image.BILINEAR)
        buffer = io.BytesIO()
        large.save(buffer, "PNG")
        files.append(buffer.getvalue())
    return files, [str(label) for label in labels]


def predict(url, data, **params):
    return requests.post(url + "api/predict", data=data, params=params, timeout=60,
                         headers={"Content-Type": "image/png"})


def label(url, record_id, value, headers=None):
    return requests.post(f"{url}api/records/{record_id}/label", json={"label": value},
                         headers=headers, timeout=60)


def json_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and body["error"].strip() and body["code"]
    if code:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    return body


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()
