"""Real MNIST digits rendered as the pictures users actually send (a test helper).

The styles themselves (`paper_photo`, `transparent_drawing`, `drawing_pad`)
live in `paddle_mnist.bench.photos`, which the preprocessing benchmark uses
too; here are the real test digits to render, `blank_png` (the hostile kind:
a valid PNG claiming any size) and a command that writes rendered pictures
into a labelled folder for `tools/eval.py --images`:

    PADDLE_MNIST_DATA=/path/to/mnist python tests/user_images.py photos --count 300
"""

import functools
import os
import zlib

import numpy as np
import pytest

from paddle_mnist.bench.photos import (STYLES, drawing_pad, encode, paper_photo,  # noqa: F401
                                       pen_strokes, transparent_drawing)

DATA_ENV = "PADDLE_MNIST_DATA"


def mnist_test_digits(count, seed=0):
    """`count` random digits and labels from the real MNIST test split; skips the
    calling test when PADDLE_MNIST_DATA is not set."""
    root = os.environ.get(DATA_ENV)
    if not root:
        pytest.skip(f"{DATA_ENV} is not set: point it at the folder with the MNIST IDX .gz files")
    images, labels = _test_split(root)
    picked = np.random.default_rng(seed).choice(len(images), size=count, replace=False)
    return images[picked], labels[picked]


@functools.lru_cache(maxsize=1)
def _test_split(root):
    from paddle_mnist.data.idx import read_split  # only once the data is known to exist

    return read_split(root, "test")


def blank_png(width, height):
    """A valid 1-bit PNG of any size, built without holding its pixels in memory."""
    def chunk(kind, body):
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    row = bytes(1 + (width + 7) // 8)  # filter byte + packed pixels, all black
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row * 1000) for _ in range(height // 1000))
    data += packer.compress(row * (height % 1000)) + packer.flush()
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def write_labelled_folder(folder, count, seed=3):
    """Render `count` MNIST test digits (seeded pick), cycling through STYLES, into
    `folder` as `<index>-<style>_<label>.<ext>`: a labelled folder for
    `tools/eval.py --images`. Returns the paths written."""
    digits, labels = mnist_test_digits(count, seed=seed)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, (digit, label) in enumerate(zip(digits, labels)):
        style = list(STYLES)[i % len(STYLES)]
        path = os.path.join(folder, f"{i:04d}-{style}_{label}.{'jpg' if style == 'photo' else 'png'}")
        with open(path, "wb") as f:
            f.write(STYLES[style](digit, seed=i))
        paths.append(path)
    return paths


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write rendered user pictures of MNIST test "
                                     "digits into a labelled folder (for tools/eval.py --images).")
    parser.add_argument("folder", help="where to write the pictures")
    parser.add_argument("--count", type=int, default=60, help="how many (default 60)")
    parser.add_argument("--seed", type=int, default=3, help="which digits (default 3)")
    options = parser.parse_args()
    print(f"wrote {len(write_labelled_folder(options.folder, options.count, options.seed))} "
          f"pictures to {options.folder}")
