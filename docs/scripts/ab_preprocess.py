"""Score one checkpoint on MNIST test, rendered photos, CVL and USPS with each
preprocessing variant of docs/real-handwriting.md (one change at a time).

    PADDLE_MNIST_DATA=/path/to/mnist python tests/user_images.py photos300 --count 300
    PADDLE_MNIST_DATA=/path/to/mnist python docs/scripts/ab_preprocess.py output/mnist \\
        photos300 ../shared/data/real-digits base,nostroke,thickonly,noundo [MNIST_COUNT]
"""
import glob
import os
import re
import sys

import numpy as np

from paddle_mnist import preprocess as pp
from paddle_mnist.data import read_mnist
from paddle_mnist.errors import ImageError
from paddle_mnist.images import load_image
from paddle_mnist.predictors import open_predictor

VARIANTS = {
    "base": {},
    "nostroke": {"normalise_stroke": pp.at_stroke_scale},      # no stroke-width step
    "thickonly": {"THICK_STROKE": 99.0},                       # widen thin, never thin bold
    "noundo": {"undo_pixel_upscaling": lambda gray: gray},     # keep enlarged pixels
    "all_to_median": {"THIN_STROKE": pp.STROKE_WIDTH, "THICK_STROKE": pp.STROKE_WIDTH},
}


def labelled(folder):
    files = sorted(f for f in glob.glob(os.path.join(folder, "*")) if re.search(r"_\d\.\w+$", f))
    return ([load_image(f, gray_side=pp.DECODE_SIDE) for f in files],
            np.array([int(re.search(r"_(\d)\.\w+$", f).group(1)) for f in files]))


def main(prefix, photos, real, names, mnist_count=10000):
    predictor = open_predictor(prefix)
    images, labels = read_mnist(None, "test")
    sets = {"mnist": (list(images[:mnist_count]), labels[:mnist_count]),
            "photos": labelled(photos), "cvl": labelled(os.path.join(real, "cvl")),
            "usps": labelled(os.path.join(real, "usps"))}
    original = {key: getattr(pp, key) for change in VARIANTS.values() for key in change}
    for name in names:
        for key, value in dict(original, **VARIANTS[name]).items():
            setattr(pp, key, value)
        row = []
        for pictures, truth in sets.values():
            digits, kept = [], []
            for i, picture in enumerate(pictures):
                try:
                    digits.append(pp.to_mnist(picture))
                    kept.append(i)
                except ImageError:
                    pass
            guess = predictor.probabilities(np.stack(digits)).argmax(1)
            right = int((guess == truth[kept]).sum())
            row.append(f"{right}/{len(truth)} ({right / len(truth):.2%}, "
                       f"{len(truth) - len(kept)} refused)")
        print(name, " | ".join(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","),
         *map(int, sys.argv[5:]))
