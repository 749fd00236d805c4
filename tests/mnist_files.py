"""MNIST IDX files written by tests: small real subsets and deliberately broken sets.

Tools run as subprocesses spend most of a short run reading the 70,000
images and scoring the 10,000 test images; the reliability tests check what
happens around training, not accuracy, so they train on a real subset.
"""

import gzip

import numpy as np

from paddle_mnist.data import read_mnist
from paddle_mnist.data.idx import FILES, IMAGES_MAGIC, LABELS_MAGIC


def write_idx(path, magic, array):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_split(folder, split, images, labels):
    image_file, label_file = FILES[split]
    write_idx(folder / image_file, IMAGES_MAGIC, images)
    write_idx(folder / label_file, LABELS_MAGIC, labels)


def write_subset(mnist_root, folder, train=2500, test=1000):
    """The first `train` / `test` real images of each split, as IDX files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", train), ("test", test)):
        images, labels = read_mnist(mnist_root, split)
        write_split(folder, split, images[:count], labels[:count])
    return folder
