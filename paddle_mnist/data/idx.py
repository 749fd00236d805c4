"""Read MNIST's IDX files into numpy arrays, fast and with clear errors.

`paddle.vision.datasets.MNIST` parses the files record by record (about 3.5 s
for the training set on our 2-core machines) and does not check the magic
numbers, so a truncated or foreign file surfaces later as a confusing shape
error. Reading the whole buffer with numpy takes ~0.2 s and lets every failure
name the file and the fix. The test suite checks that both readers give the
same pixels and labels.
"""

import gzip
import math
import os
import zlib

import numpy as np

from ..errors import DataError

IMAGES_MAGIC = 2051  # unsigned byte, 3 dimensions
LABELS_MAGIC = 2049  # unsigned byte, 1 dimension
MAX_DATA_BYTES = 1 << 30  # MNIST's training images are 47 MB; EMNIST's largest ~700 MB
IMAGE_SIDE = 28      # every MNIST image; the networks take 28x28 (32x32 nets pad it)

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _open(path):
    if not os.path.isfile(path):
        raise DataError(f"MNIST file not found: {path} (point data.root or PADDLE_MNIST_DATA "
                        "at the folder holding the four IDX .gz files)")
    return gzip.open(path, "rb")


def _parse(path, magic, ndim):
    """Read the header, then exactly the bytes it promises: a small file that
    decompresses to gigabytes is refused after its header, not after its data."""
    header = 4 + 4 * ndim
    try:
        with _open(path) as f:
            head = f.read(header)
            if len(head) < header:
                raise DataError(f"{path} is too short to be an IDX file ({len(head)} bytes)")
            found = int.from_bytes(head[:4], "big")
            if found != magic:
                raise DataError(f"{path} has IDX magic number {found}, expected {magic}; "
                                "is it the right file (images vs labels)?")
            dims = [int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            expected = math.prod(dims)
            shape = "x".join(map(str, dims))
            if expected > MAX_DATA_BYTES:
                raise DataError(f"{path} claims {shape} values ({expected:,} bytes), more "
                                f"than any MNIST-like file ({MAX_DATA_BYTES:,}); the header "
                                "is corrupt or it is not an MNIST file")
            raw = f.read(expected + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path} is not a complete gzip file ({err}); "
                        "download it again") from None
    if len(raw) != expected:
        held = f"{len(raw)}" if len(raw) <= expected else f"more than {expected}"
        raise DataError(f"{path} holds {held} data bytes but its header promises {expected} "
                        f"({shape}); the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8).reshape(dims)


def read_images(path):
    """IDX3 image file -> uint8 array of shape (N, rows, cols)."""
    return _parse(path, IMAGES_MAGIC, 3)


def read_labels(path):
    """IDX1 label file -> int64 array of shape (N,)."""
    labels = _parse(path, LABELS_MAGIC, 1).astype(np.int64)
    if labels.size and labels.max() > 9:
        raise DataError(f"{path} holds label {labels.max()}; MNIST labels are 0-9")
    return labels


def read_split(root, split):
    """Images and labels of the 'train' or 'test' split found in folder `root`."""
    if not os.path.isdir(root):
        raise DataError(f"MNIST folder not found: {root} (set data.root or "
                        "PADDLE_MNIST_DATA to the folder holding the four IDX .gz files)")
    image_file, label_file = (os.path.join(root, name) for name in FILES[split])
    images, labels = read_images(image_file), read_labels(label_file)
    if not len(images):
        raise DataError(f"{image_file} holds no images; use the complete MNIST files")
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(f"{image_file} holds {images.shape[1]}x{images.shape[2]} images; MNIST "
                        f"images are {IMAGE_SIDE}x{IMAGE_SIDE}, the size every network here "
                        "takes (resize them to 28x28 first)")
    if len(images) != len(labels):
        raise DataError(f"{image_file} has {len(images)} images but {label_file} has "
                        f"{len(labels)} labels; the two files do not belong together")
    return images, labels
