"""JSON error answers with a stable `code` for programs and the page to act on.

Messages stay English; the page shows its own translation of the code. Image
errors are raised deep in `images` / `preprocess` as one `ImageError` class,
so their code is read off the message they carry; a message this table does
not know is plain "bad_image".
"""

from flask import jsonify

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 431: "headers_too_large",
                500: "internal", 501: "not_implemented", 503: "unavailable"}

IMAGE_ERROR_CODES = (
    ("an empty file", "empty"),
    ("not an image", "not_an_image"),
    ("truncated or corrupt", "corrupt_image"),
    ("pixels, more than", "too_many_pixels"),
    ("decompression bomb", "too_many_pixels"),
    ("MiB, too big", "too_large"),
    ("no digit found", "no_digit"),
    ("no digits found", "no_digits"),
)


def error_body(status, message, code=None):
    return {"error": message, "code": code or STATUS_CODES.get(status, "error"),
            "status": status}


def json_error(status, message, code=None):
    response = jsonify(error_body(status, message, code))
    response.status_code = status
    return response


def image_error_code(message):
    for fragment, code in IMAGE_ERROR_CODES:
        if fragment in message:
            return code
    return "bad_image"
