"""How long a user's photo takes to become the network's input, and predict's pace.

`tools/benchmark.py preprocess` renders real MNIST test digits as 640x480
JPEG photos (`photos.paper_photo`: tinted paper, uneven light, noise, dust)
and measures two things:

- per photo, the median (and 90th percentile) time of decoding the file
  (`images.load_image` as `preprocess.prepare_file` calls it: straight to
  grey) and of `preprocess.to_mnist` on the decoded image,
  each photo timed on its own with the garbage collector paused;
- the images/s of `tools/predict.py`'s path (`predict.predict_files`: read,
  preprocess, batch, predict) on a folder of those photos, after start-up
  (imports, opening the predictor and a warm-up batch are not counted).

With `--profile`, cProfile shows where `to_mnist`'s time goes.
"""

import cProfile
import gc
import io
import os
import pstats
import statistics
import tempfile
import time

import numpy as np

from ..data import read_mnist
from ..images import load_image
from ..predict import predict_files
from ..preprocess import DECODE_SIDE, to_mnist
from .photos import paper_photo

PHOTO_SHAPE = (480, 640)   # height, width: a small phone or webcam picture
WARMUP_FILES = 64


def render_photos(count, data_root=None, seed=0):
    """[(JPEG bytes, label)] of `count` distinct MNIST test digits as 640x480 photos."""
    images, labels = read_mnist(data_root, "test")
    picked = np.random.default_rng(seed).choice(len(images), size=count, replace=False)
    return [(paper_photo(images[i], seed=int(i), shape=PHOTO_SHAPE), int(labels[i]))
            for i in picked]


def time_steps(photos):
    """Median and p90 milliseconds of decoding and of preprocessing one photo."""
    decode, preprocess = [], []
    for data, _ in photos[:5]:  # first calls import and allocate
        to_mnist(load_image(data, gray_side=DECODE_SIDE))
    collecting = gc.isenabled()
    gc.disable()
    try:
        for data, _ in photos:
            start = time.perf_counter()
            image = load_image(data, gray_side=DECODE_SIDE)  # as preprocess.prepare_file
            decoded = time.perf_counter()
            to_mnist(image)
            done = time.perf_counter()
            decode.append((decoded - start) * 1000)
            preprocess.append((done - decoded) * 1000)
    finally:
        if collecting:
            gc.enable()
    return {name: {"median_ms": round(statistics.median(times), 3),
                   "p90_ms": round(float(np.percentile(times, 90)), 3)}
            for name, times in (("decode", decode), ("preprocess", preprocess),
                                ("decode_and_preprocess",
                                 [a + b for a, b in zip(decode, preprocess)]))}


def predict_throughput(predictor, photos, batch_size=64):
    """images/s of predict_files on a folder holding `photos`, and how many it read right."""
    with tempfile.TemporaryDirectory() as folder:
        for index, (data, label) in enumerate(photos):
            with open(os.path.join(folder, f"{index:05d}_{label}.jpg"), "wb") as f:
                f.write(data)
        files = sorted(os.listdir(folder))
        warmup = [os.path.join(folder, name) for name in files[:WARMUP_FILES]]
        list(predict_files(predictor, warmup, batch_size=batch_size))
        start = time.perf_counter()
        results = list(predict_files(predictor, [folder], batch_size=batch_size))
        seconds = time.perf_counter() - start
    right = sum(not r.error and r.label == name.rsplit("_", 1)[1][:-4]
                for r, name in zip(results, files))
    return {"images": len(results), "seconds": round(seconds, 3),
            "images_per_s": round(len(results) / seconds, 1),
            "refused": sum(bool(r.error) for r in results), "correct": right,
            "batch_size": batch_size}


def profile_preprocess(photos, top=15):
    """The functions where `to_mnist` spends its time over `photos` (cProfile)."""
    decoded = [load_image(data, gray_side=DECODE_SIDE) for data, _ in photos]
    profiler = cProfile.Profile()
    profiler.enable()
    for image in decoded:
        to_mnist(image)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (file, line, function), (_, calls, own, total, _) in stats.stats.items():
        rows.append({"function": f"{os.path.basename(file)}:{line}({function})",
                     "calls_per_photo": round(calls / len(photos), 2),
                     "own_ms_per_photo": round(own * 1000 / len(photos), 4),
                     "total_ms_per_photo": round(total * 1000 / len(photos), 4)})
    rows.sort(key=lambda r: -r["own_ms_per_photo"])
    return {"photos": len(photos), "functions": rows[:top]}
