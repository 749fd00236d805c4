"""Recognise the digit in each of a user's image files.

Files and folders become one ordered stream of results: every file is
preprocessed the MNIST way (`preprocess.prepare_file`), good ones are batched
through one predictor, and a file that cannot be read or holds no digit
becomes a result carrying its one-line error instead of ending the run, so a
folder with one broken scan still gets all its other digits recognised.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image

from .errors import ConfigError, ImageError
from .preprocess import prepare_file

BATCH_SIZE = 64
# Decoding and preprocessing are numpy, scipy and Pillow work that releases the GIL
# for much of its time, so files are prepared on every core while the model waits.
WORKERS = os.cpu_count() or 1


@dataclass
class Prediction:
    file: str
    top: list = field(default_factory=list)  # [(class name, probability)], best first
    error: str = ""
    debug_image: str = ""                    # the 28x28 input saved with --save-debug
    digit: Optional[np.ndarray] = None       # uint8 28x28: what the model saw
    probabilities: Optional[np.ndarray] = None  # one per class, in class_names order

    @property
    def label(self):
        return self.top[0][0]

    @property
    def probability(self):
        return self.top[0][1]

    def to_dict(self):
        if self.error:
            return {"file": self.file, "error": self.error}
        result = {"file": self.file, "digit": _json_label(self.label),
                  "probability": round(self.probability, 6),
                  "top": [{"digit": _json_label(name), "probability": round(p, 6)}
                          for name, p in self.top]}
        if self.debug_image:
            result["debug_image"] = self.debug_image
        return result

    def to_text(self):
        if self.error:
            return self.error
        others = ", ".join(f"{name} ({p:.1%})" for name, p in self.top[1:])
        return (f"{self.file}: {self.label} ({self.probability:.1%})"
                + (f"  next: {others}" if others else ""))


def _json_label(name):
    return int(name) if name.isdigit() else name


def expand_inputs(paths):
    """[(file, error)] in command-line order; a folder contributes its visible files."""
    items = []
    for path in paths:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
            files = [os.path.join(path, n) for n in names
                     if os.path.isfile(os.path.join(path, n))]
            items += [(f, "") for f in files] or [(path, f"folder {path} holds no files")]
        elif os.path.isfile(path):
            items.append((path, ""))
        else:
            items.append((path, f"cannot read image {path}: no such file or folder"))
    return items


class DebugWriter:
    """Saves the 28x28 input of each file as a PNG, one unique name per file."""

    def __init__(self, folder):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as err:
            raise ConfigError(f"cannot create --save-debug folder {folder}: "
                              f"{err.strerror or err}") from None
        self.folder, self.used = folder, set()

    def save(self, file, digit):
        stem = os.path.splitext(os.path.basename(file))[0] or "image"
        name, count = f"{stem}.png", 1
        while name in self.used:
            count += 1
            name = f"{stem}-{count}.png"
        self.used.add(name)
        path = os.path.join(self.folder, name)
        Image.fromarray(digit).save(path)
        return path


def predict_files(predictor, paths, *, topk=1, batch_size=BATCH_SIZE, debug_dir=None):
    """Yield one Prediction per file found in `paths`, in order, batching the model."""
    items = expand_inputs(paths)
    debug = DebugWriter(debug_dir) if debug_dir else None
    with ThreadPoolExecutor(WORKERS) as pool:
        for start in range(0, len(items), batch_size):
            batch = pool.map(_prepared, items[start:start + batch_size])
            yield from _predict_batch(predictor, batch, topk, debug)


def _prepared(item):
    """(file, uint8 28x28 or None, error) for one (file, error) item."""
    file, error = item
    if error:
        return file, None, error
    try:
        return file, prepare_file(file), ""
    except ImageError as err:
        return file, None, str(err)


def _predict_batch(predictor, prepared, topk, debug):
    """Predictions for one batch of prepared files, the model run once for all."""
    results, digits = [], []
    for file, digit, error in prepared:
        results.append(Prediction(file, error=error))
        if digit is not None:
            digits.append(digit)
    ready = [r for r in results if not r.error]
    if ready:
        probabilities = predictor.probabilities(np.stack(digits))
        names = predictor.class_names
        for result, digit, row in zip(ready, digits, probabilities):
            best = np.argsort(-row, kind="stable")[:topk]
            result.top = [(names[i], float(row[i])) for i in best]
            result.digit, result.probabilities = digit, row
            if debug:
                result.debug_image = debug.save(result.file, digit)
    return results
