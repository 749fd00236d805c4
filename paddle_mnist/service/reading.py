"""The answer of `POST /api/read`: a whole number read from an uploaded picture.

The same reader as `tools/predict.py --number` (`numbers.read_image`); the
answer is its JSON (number, lines, digits with their boxes in the uploaded
picture's pixels) plus what the page shows: each digit's 28x28 as the model
saw it and all its class probabilities, for the boxes it draws over the
writing. The record keeps one image per digit with its box, and as result
the digits in reading order (lines run together, as labels are written).
"""

import base64
import time
from dataclasses import dataclass

from ..numbers import NumberReading, load_picture, read_image
from .recording import digit_image


@dataclass
class Read:
    answer: dict          # the JSON answer, without the record id
    result: str           # the digits read, lines run together
    probabilities: list   # one list of class probabilities per digit
    images: list          # store.DigitImage per digit, with its box
    latency_ms: float


def read_upload(predictor, data, name, max_pixels):
    """Decode and read an uploaded picture; ImageError (a 400) when it has no digit."""
    started = time.perf_counter()
    image = load_picture(data, name=name, max_pixels=max_pixels)
    reading = NumberReading(name, read_image(predictor, image))
    latency_ms = (time.perf_counter() - started) * 1000
    answer = reading.to_dict()
    del answer["file"]
    images = []
    for entry, digit in zip(answer["digits"], reading.digits):
        x, y, w, h = digit.box
        images.append(digit_image(digit.pixels, (x, y, x + w, y + h)))
        entry["probabilities"] = [round(float(p), 6) for p in digit.probabilities]
        entry["image"] = base64.b64encode(images[-1].png).decode("ascii")
    answer["latency_ms"] = round(latency_ms, 2)
    answer["size"] = list(image.size)
    return Read(answer, "".join(reading.line_texts),
                [[float(p) for p in digit.probabilities] for digit in reading.digits],
                images, latency_ms)
