"""Read handwritten numbers: every way `segment` left open is read, the best is kept.

`segment` cuts a picture into candidate digits without deciding whether two
overlapping blobs are one digit or two, or where touching digits part. All
candidates of a picture go to the predictor as one batch, and for each line
the reading with the highest joint confidence (the sum of the log
probabilities of its digits) wins, by dynamic programming over the line's
atoms. `tools/predict.py --number`, `tools/eval.py --numbers`, the service's
`POST /api/read` and `tools/benchmark.py read` all read through `read_image`.
"""

import os
from dataclasses import dataclass, field

import numpy as np
from PIL import ImageDraw, ImageFont

from .errors import ImageError
from .predict import DebugWriter, expand_inputs
from .preprocess import load_image
from .segment import segment

TOP = 3           # alternatives kept per digit
FLOOR = 1e-6      # probabilities are floored here before their log is summed
WIDE = 1.8          # digits up to this many typical widths wide are not penalised ...
WIDTH_PENALTY = 4.0  # ... wider ones lose this much log-probability per squared excess
WHOLE = 1 << 20   # a "grey side" beyond any picture's: JPEGs decode to grey, never scaled


def load_picture(source, *, name=None, max_pixels=40_000_000):
    """Decode a picture of a number (path or bytes) at its full size, JPEGs straight
    to grey: boxes are given in its pixels, and the digits may be a small part of it."""
    return load_image(source, name=name, max_pixels=max_pixels, gray_side=WHOLE)


@dataclass
class ReadDigit:
    digit: str
    probability: float
    top: list            # [(class name, probability)], best first
    box: tuple           # x, y, w, h in the original picture
    pixels: np.ndarray   # uint8 28x28: what the model saw
    probabilities: np.ndarray


@dataclass
class NumberReading:
    file: str
    lines: list = field(default_factory=list)  # [[ReadDigit]], top to bottom
    error: str = ""
    debug_images: list = field(default_factory=list)

    @property
    def digits(self):
        return [digit for line in self.lines for digit in line]

    @property
    def line_texts(self):
        return ["".join(digit.digit for digit in line) for line in self.lines]

    @property
    def number(self):
        return "\n".join(self.line_texts)

    def least_sure(self):
        return min(self.digits, key=lambda digit: digit.probability)

    def to_dict(self):
        if self.error:
            return {"file": self.file, "error": self.error}
        digits = [{"digit": d.digit, "probability": round(d.probability, 6), "line": index,
                   "top": [{"digit": name, "probability": round(p, 6)} for name, p in d.top],
                   "box": list(d.box)}
                  for index, line in enumerate(self.lines) for d in line]
        result = {"file": self.file, "number": self.number, "digits": digits,
                  "lines": self.line_texts}
        if self.debug_images:
            result["debug_images"] = self.debug_images
        return result

    def to_text(self):
        if self.error:
            return self.error
        weakest = self.least_sure()
        spelled = " | ".join(" ".join(line) for line in self.line_texts)
        return (f"{self.file}: {' / '.join(self.line_texts)}  ({spelled}; least sure digit "
                f"{weakest.digit} at {weakest.probability:.1%})")


def read_image(predictor, image, topk=TOP):
    """PIL image or array -> [[ReadDigit]] per line; ImageError when it has no digit."""
    lines = segment(image)
    candidates = [digit for line in lines for span in line.spans
                  for option in span.options for digit in option]
    probabilities = predictor.probabilities(np.stack([d.pixels for d in candidates]))
    row_of = {id(digit): row for digit, row in zip(candidates, probabilities)}
    names = [str(name) for name in predictor.class_names]
    read = []
    for line in lines:
        best = best_reading(line, row_of)
        read.append([as_read(digit, row_of[id(digit)], names, topk) for digit in best])
    return read


def best_reading(line, row_of):
    """The Digits of the line's most confident reading (dynamic programming: the
    best score of the first n atoms is the best over spans ending at atom n-1)."""
    score = [0.0] + [-np.inf] * line.atoms
    choice = [None] * (line.atoms + 1)
    for span in sorted(line.spans, key=lambda span: span.end):
        if score[span.start] == -np.inf:
            continue
        for option in span.options:
            total = score[span.start] + sum(
                float(np.log(max(row_of[id(digit)].max(), FLOOR))) - too_wide(digit)
                for digit in option)
            if total > score[span.end + 1]:
                score[span.end + 1], choice[span.end + 1] = total, (span.start, option)
    digits, end = [], line.atoms
    while end > 0:
        start, option = choice[end]
        digits[:0] = option
        end = start
    return digits


def too_wide(digit):
    """A log-probability penalty for a digit much wider than its line's digits: a
    network reads two or three touching digits as one with a confidence of its
    own, which the width contradicts."""
    return WIDTH_PENALTY * max(0.0, digit.width - WIDE) ** 2


def as_read(digit, row, names, topk):
    order = np.argsort(-row, kind="stable")[:topk]
    return ReadDigit(digit=names[order[0]], probability=float(row[order[0]]),
                     top=[(names[i], float(row[i])) for i in order], box=digit.box,
                     pixels=digit.pixels, probabilities=row)


def read_files(predictor, paths, *, topk=TOP, debug_dir=None):
    """Yield one NumberReading per file found in `paths`, in order; a file that
    cannot be read or holds no digits carries its one-line error."""
    debug = DebugWriter(debug_dir) if debug_dir else None
    for file, error in expand_inputs(paths):
        reading = NumberReading(file, error=error)
        if not error:
            try:
                image = load_picture(file)
                reading.lines = read_image(predictor, image, topk)
            except ImageError as err:
                reading.error = f"{file}: {err}" if file not in str(err) else str(err)
        if debug and not reading.error:  # drawn on the colours the reader did not need
            reading.debug_images = save_debug(debug, file, load_image(file), reading)
        yield reading


def save_debug(debug, file, image, reading):
    """The picture with each digit's box and reading drawn on it, then the 28x28
    of each digit as the model saw it; returns the paths written."""
    stem = os.path.splitext(os.path.basename(file))[0] or "image"
    paths = [debug.save(f"{stem}-boxes", overlay(image, reading.digits))]
    for index, digit in enumerate(reading.digits):
        paths.append(debug.save(f"{stem}-digit{index:02d}-{digit.digit}", digit.pixels))
    return paths


def overlay(image, digits):
    """uint8 RGB array: `image` with a box and the digit read over each digit."""
    picture = image.convert("RGB")
    draw = ImageDraw.Draw(picture)
    size = max(12, int(np.median([d.box[3] for d in digits]) * 0.35)) if digits else 12
    font = ImageFont.load_default(size=size)
    width = max(1, size // 8)
    for digit in digits:
        x, y, w, h = digit.box
        colour = (0, 160, 60) if digit.probability >= 0.9 else (220, 40, 40)
        draw.rectangle([x, y, x + w - 1, y + h - 1], outline=colour, width=width)
        draw.text((x, max(0, y - size - 2 * width)), f"{digit.digit} {digit.probability:.0%}",
                  fill=colour, font=font)
    return np.asarray(picture)
