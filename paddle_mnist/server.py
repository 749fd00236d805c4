"""The web demo and HTTP API around one exported model.

People try a model by drawing or uploading a digit in the browser; programs
call `POST /api/predict` with an image. Both go through the same steps as
`tools/predict.py` (`preprocess.load_image` + `to_mnist`, then the shared
predictor), so the page shows exactly what the model saw.

The app is meant for a local demo on werkzeug's threaded server: every request
gets its own thread and they all share one thread-safe predictor. Requests are
untrusted input, so sizes are bounded and every failure becomes a JSON error
with a status code; a traceback goes to the server log, never to the client.
"""

import base64
import io
import logging
import time
from pathlib import Path

import numpy as np
from flask import Flask, jsonify, request, send_from_directory
from PIL import Image
from werkzeug.exceptions import (BadRequest, HTTPException, InternalServerError,
                                 RequestEntityTooLarge)

from .errors import ImageError
from .preprocess import load_image, to_mnist

WEB_DIR = Path(__file__).with_name("web")
MAX_BODY_BYTES = 5 * 1024 * 1024  # a phone photo fits; a 413 stops anything larger early
MAX_PIXELS = 16_000_000           # 4000x4000: today's phone photos, not decompression bombs

# Browsers load nothing but this server's own files (no CDN, no third party);
# the model's 28x28 view arrives as a data: URL and uploads are previewed via blob:.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

log = logging.getLogger(__name__)


def create_app(predictor, *, max_body_bytes=MAX_BODY_BYTES, max_pixels=MAX_PIXELS):
    """A Flask app serving the demo page and the JSON API for `predictor`.

    `predictor` needs `.spec` (model, input_size, mean, std, class_names) and a
    thread-safe `.probabilities(uint8 [N,28,28]) -> [N, classes]`, as returned
    by `paddle_mnist.predictors.open_predictor`.
    """
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.json.sort_keys = False  # answers read best as digit, label, probabilities, ...
    spec = predictor.spec

    @app.get("/")
    def index():
        return send_from_directory(WEB_DIR, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name):
        return send_from_directory(WEB_DIR, name)

    @app.get("/api/health")
    def health():
        return jsonify(status="ok", model=spec.model,
                       input={"size": spec.input_size, "mean": spec.mean, "std": spec.std},
                       classes=list(spec.class_names),
                       limits={"max_body_bytes": max_body_bytes, "max_pixels": max_pixels})

    @app.post("/api/predict")
    def predict():
        data, name = uploaded_image()
        started = time.perf_counter()
        digit_image = to_mnist(load_image(data, name=name, max_pixels=max_pixels))
        probabilities = predictor.probabilities(digit_image[None])[0]
        latency_ms = (time.perf_counter() - started) * 1000
        best = int(np.argmax(probabilities))
        return jsonify(digit=best, label=str(spec.class_names[best]),
                       probabilities=[float(p) for p in probabilities],
                       latency_ms=round(latency_ms, 2), image=png_base64(digit_image))

    @app.errorhandler(ImageError)
    def bad_image(err):
        return json_error(400, str(err))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err):
        return json_error(413, f"request larger than the {max_body_bytes:,} bytes allowed; "
                               "send a smaller image")

    @app.errorhandler(HTTPException)
    def http_error(err):
        return json_error(err.code, err.description)

    @app.errorhandler(Exception)
    def unexpected(err):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, InternalServerError.description)

    @app.after_request
    def harden(response):
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def uploaded_image():
    """(image bytes, name for messages) from a multipart `file` field or a raw body."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise BadRequest("multipart upload has no 'file' field; send the image as "
                             "-F file=@digit.png")
        data, name = upload.read(), f"upload {upload.filename or 'file'}"[:120]
    else:
        data, name = request.get_data(cache=False), "request body"
    if not data:
        raise BadRequest("empty request: POST an image (PNG, JPEG, ...) as the raw body "
                         "or as the multipart field 'file'")
    return data, name


def png_base64(pixels):
    """uint8 HxW -> base64 PNG text, for <img src="data:image/png;base64,...">."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def json_error(status, message):
    response = jsonify(error=message, status=status)
    response.status_code = status
    return response
