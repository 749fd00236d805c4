"""How long reading a handwritten number takes, from the decoded picture to its digits.

`tools/benchmark.py read` renders 8-digit numbers of real MNIST test digits
as 1280x720 JPEG phone photos (`numbers.number_photo`: tinted paper, uneven
light, noise, dust), decodes each once as the reader does (straight to
grey), then times `numbers.read_image` on each decoded picture, one at a
time with the garbage collector paused, for several rounds: segmentation,
every candidate digit made 28x28, one batch through the predictor, the best
reading chosen. Decoding is reported on its own; start-up is not counted.
"""

import gc
import statistics
import time

import numpy as np

from ..data import read_mnist
from ..numbers import load_picture, read_image
from ..segment import segment
from .numbers import number_photo

PHOTO_SHAPE = (720, 1280)  # height, width
DIGITS = 8


def render(count, data_root=None, seed=0):
    """[(JPEG bytes, number)] of `count` photos of 8-digit numbers."""
    images, labels = read_mnist(data_root, "test")
    rng = np.random.default_rng(seed)
    photos = []
    for index in range(count):
        picked = rng.choice(len(images), size=DIGITS, replace=False)
        photos.append((number_photo(images[picked], seed + index, PHOTO_SHAPE),
                       "".join(str(labels[i]) for i in picked)))
    return photos


def milliseconds(values):
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered) * 1000, 2),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 2)}


def measure(predictor, photos, rounds):
    """Median/p90 ms of decoding, segmenting and reading; and how many read right."""
    decode, pictures = [], []
    for data, _ in photos:
        start = time.perf_counter()
        pictures.append(load_picture(data))
        decode.append(time.perf_counter() - start)
    for picture in pictures[:3]:  # first calls import and allocate
        read_image(predictor, picture)
    seg, read, right = [], [], 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for picture, (_, number) in zip(pictures, photos):
                start = time.perf_counter()
                lines = read_image(predictor, picture)
                read.append(time.perf_counter() - start)
                right += "".join(d.digit for line in lines for d in line) == number
                start = time.perf_counter()
                segment(picture)
                seg.append(time.perf_counter() - start)
    finally:
        if collecting:
            gc.enable()
    return {"decode_ms": milliseconds(decode), "segment_ms": milliseconds(seg),
            "read_ms": milliseconds(read), "reads": len(read),
            "read_right": right, "photo_shape": list(PHOTO_SHAPE), "digits": DIGITS}


def table(report):
    """`benchmark read` as text."""
    r = report
    return "\n".join([
        f"reading a {r['photo_shape'][1]}x{r['photo_shape'][0]} photo of an {r['digits']}-digit "
        f"number ({r['model']}, {r['backend']}; {r['reads']} reads of {r['photos']} photos)",
        f"  read (decoded picture -> digits): median {r['read_ms']['median']} ms, "
        f"p90 {r['read_ms']['p90']} ms",
        f"    of which segmentation + 28x28s:  median {r['segment_ms']['median']} ms",
        f"  decode (JPEG -> grey, not counted): median {r['decode_ms']['median']} ms",
        f"  numbers read exactly: {r['read_right']}/{r['reads']}",
        f"  load average before {r['machine']['load_average']}, after "
        f"{r['machine']['load_average_after']}"])
