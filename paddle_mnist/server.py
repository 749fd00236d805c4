"""The web page and HTTP API around one exported model, keeping a record of each answer.

People try a model by drawing or uploading a digit in the browser; programs
call `POST /api/predict` with an image. Both go through the same steps as
`tools/predict.py` (`preprocess.load_image` + `to_mnist`, then the shared
predictor), so the page shows exactly what the model saw. Every answer is
stored (`service.recording`) before it is sent, and users correct it through
the records API (`service.records_api`); a database that cannot take the
record makes the answer a 503, never a 200 that was not kept.

Requests are untrusted input, so sizes are bounded and every failure becomes
a JSON error with a status code and a stable `code`; a traceback goes to the
server log, never to the client. The app is plain WSGI: `service.httpserver`
runs it on waitress, gunicorn can run it through `service.factory`.
"""

import base64
import logging
import time
from pathlib import Path

import numpy as np
from flask import Flask, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import (BadRequest, HTTPException, InternalServerError,
                                 RequestEntityTooLarge)

from .errors import ImageError, StoreError
from .preprocess import DECODE_SIDE, load_image, to_mnist
from .service import i18n
from .service.answers import image_error_code, json_error
from .service.auth import COOKIE, Guard
from .service.decoding import Busy, DecodeSlots
from .service.reading import read_upload
from .service.recording import Recorder, digit_image
from .service.records_api import blueprint

WEB_DIR = Path(__file__).with_name("web")
MAX_BODY_BYTES = 5 * 1024 * 1024  # a phone photo fits; a 413 stops anything larger early
MAX_PIXELS = 16_000_000           # 4000x4000: today's phone photos, not decompression bombs
MAX_FORM_PARTS = 8                # an upload is one 'file' field, perhaps with a few others
MAX_FORM_FIELD_BYTES = 64 * 1024  # text fields; the file part itself may use the whole body

# Browsers load nothing but this server's own files (no CDN, no third party);
# the model's 28x28 view arrives as a data: URL and uploads are previewed via blob:.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

log = logging.getLogger(__name__)


class TooManyParts(RequestEntityTooLarge):
    description = (f"multipart upload has more than {MAX_FORM_PARTS} parts or a text field "
                   f"over {MAX_FORM_FIELD_BYTES:,} bytes; send just the image as the field "
                   "'file'")


def too_large_message(max_body_bytes):
    return f"request larger than the {max_body_bytes:,} bytes allowed; send a smaller image"


def create_app(models, store, *, token=None, keep_originals=False,
               max_body_bytes=MAX_BODY_BYTES, max_pixels=MAX_PIXELS, decode_slots=None):
    """A Flask app serving the pages and the JSON API, recording in `store`.

    `models.current()` is the `service.models.Live` model that answers a
    request: its predictor (`.spec`, an `exported.ExportSpec`, and a thread-safe
    `.probabilities(uint8 [N,28,28]) -> [N, classes]`, as
    `paddle_mnist.predictors.open_predictor` returns) and its version, stored
    with every record. `RegistryModels` switches it when another version is
    promoted; `FixedModel` never does. `store` is a `paddle_mnist.store.Store`.
    With a `token`, records, labels, statistics and the history page need it
    (`service.auth`). `decode_slots` (a `service.decoding.DecodeSlots`; default:
    one slot per core) bounds how many uploads are decoded at once.
    """
    app = Flask(__name__, static_folder=None, template_folder=str(WEB_DIR))
    app.config.update(MAX_CONTENT_LENGTH=max_body_bytes, MAX_FORM_PARTS=MAX_FORM_PARTS,
                      MAX_FORM_MEMORY_SIZE=MAX_FORM_FIELD_BYTES)
    app.json.sort_keys = False  # answers read best as digit, label, probabilities, ...
    classes = [str(name) for name in models.current().spec.class_names]
    recorder = Recorder(store, keep_originals=keep_originals)
    guard = Guard(token)
    slots = decode_slots or DecodeSlots()
    app.extensions["paddle_mnist.decode_slots"] = slots

    def render_page(name):
        language = i18n.choose(request)
        return render_template(name, t=i18n.strings(language), language=language,
                               languages=i18n.LANGUAGES)

    app.register_blueprint(blueprint(store, guard, classes, lambda: models.current().version,
                                     render_page))

    @app.get("/")
    def index():
        return render_page("index.html")

    @app.get("/static/<path:name>")
    def static_file(name):
        return send_from_directory(WEB_DIR, name)

    @app.get("/api/health")
    def health():
        live = models.current()
        spec = live.spec
        return jsonify(status="ok", model=spec.model, version=live.version,
                       version_id=live.version_id,
                       input={"size": spec.input_size, "mean": spec.mean, "std": spec.std},
                       classes=classes, token_required=token is not None,
                       limits={"max_body_bytes": max_body_bytes, "max_pixels": max_pixels})

    @app.post("/api/predict")
    def predict():
        data, name = uploaded_image(max_body_bytes)
        started = time.perf_counter()
        with slots.taken():
            image = load_image(data, name=name, max_pixels=max_pixels, gray_side=DECODE_SIDE)
            decoded = time.perf_counter()
            pixels = to_mnist(image)
            del image  # the full-size picture is the memory the slot bounds
        prepared = time.perf_counter()
        live = models.current()  # the model of this request, even if another is promoted now
        probabilities = [float(p) for p in live.predictor.probabilities(pixels[None])[0]]
        answered = time.perf_counter()
        best = int(np.argmax(probabilities))
        seen = digit_image(pixels)
        latency_ms = (answered - started) * 1000
        answer = {"digit": best, "label": classes[best], "probabilities": probabilities,
                  "latency_ms": round(latency_ms, 2),
                  "image": base64.b64encode(seen.png).decode("ascii")}
        # the page's live guesses while the pen still moves are not recognitions
        if request.args.get("preview") not in ("1", "true"):
            answer["id"] = recorder.record(live, "digit", classes[best], probabilities,
                                           latency_ms, [seen], original=data)
        response = jsonify(answer)
        response.headers["Server-Timing"] = ", ".join(
            f"{step};dur={seconds * 1000:.2f}" for step, seconds in (
                ("decode", decoded - started), ("preprocess", prepared - decoded),
                ("model", answered - prepared), ("record", time.perf_counter() - answered)))
        return response

    @app.post("/api/read")
    def read():
        data, name = uploaded_image(max_body_bytes)
        live = models.current()
        with slots.taken():  # a number is read from the picture at full size
            number = read_upload(live.predictor, data, name, max_pixels)
        number.answer["id"] = recorder.record(live, "number", number.result, number.probabilities,
                                              number.latency_ms, number.images, original=data)
        return jsonify(number.answer)

    @app.post("/api/session")
    def sign_in():
        body = request.get_json(silent=True)
        presented = body.get("token") if isinstance(body, dict) else None
        if not isinstance(presented, str) or not guard.allows(presented):
            return json_error(401, "that is not the server's token")
        response = app.response_class(status=204)
        if token is not None:
            response.set_cookie(COOKIE, presented, httponly=True, samesite="Strict")
        return response

    @app.errorhandler(ImageError)
    def bad_image(err):
        return json_error(400, str(err), image_error_code(str(err)))

    @app.errorhandler(StoreError)
    def store_down(err):
        log.warning("%s %s: %s", request.method, request.path, err)
        response = json_error(503, f"{err}; the request was not kept, try again",
                              "database_unavailable")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Busy)
    def busy(err):
        response = json_error(503, str(err), "busy")
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(err):
        if isinstance(err, TooManyParts):
            return json_error(413, err.description, "too_many_parts")
        return json_error(413, too_large_message(max_body_bytes))

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


def uploaded_image(max_body_bytes):
    """(image bytes, name for messages) from a multipart `file` field or a raw body."""
    if request.mimetype == "multipart/form-data":
        try:
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            # the body is within its limit (or werkzeug would not parse it): a part limit
            if (request.content_length or 0) <= max_body_bytes:
                raise TooManyParts() from None
            raise
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
