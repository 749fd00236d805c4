"""Where MNIST comes from: a local folder, $PADDLE_MNIST_DATA, or paddle's downloader.

The whole data set is 55 MB of uint8, so it is read once into memory; splits
are plain (images, labels) numpy pairs.
"""

import os

import numpy as np

from ..errors import DataError
from .idx import read_images, read_labels, read_split

DATA_ENV = "PADDLE_MNIST_DATA"


def resolve_root(root=None):
    """The folder to read, or None to use paddle's downloader."""
    return root or os.environ.get(DATA_ENV) or None


def _download(split):
    import paddle.vision.datasets  # heavy import, only for users with internet

    try:
        dataset = paddle.vision.datasets.MNIST(mode=split, download=True)
    except Exception as err:  # any failure of the downloader means the same to the user
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"could not download MNIST ({reason}); without network, set "
                        f"{DATA_ENV}=/path/to/mnist or -o data.root=/path/to/mnist, a "
                        "folder holding the four IDX .gz files") from None
    return read_images(dataset.image_path), read_labels(dataset.label_path)


def read_mnist(root, split):
    """(images uint8 [N,28,28], labels int64 [N]) of 'train' or 'test'."""
    root = resolve_root(root)
    return read_split(root, split) if root else _download(split)


def load_splits(data_config, seed):
    """{'train', 'val', 'test'} -> (images, labels); 'val' is None without val_split.

    The validation images are a seeded random subset of the training set, so
    model selection never looks at the test set.
    """
    images, labels = read_mnist(data_config.root, "train")
    splits = {"val": None, "test": read_mnist(data_config.root, "test")}
    held_out = data_config.val_split
    if held_out:
        if held_out >= len(images):
            raise DataError(f"data.val_split={held_out} leaves no training images "
                            f"(the training set has {len(images)})")
        order = np.random.RandomState(seed).permutation(len(images))
        val_idx, train_idx = np.sort(order[:held_out]), np.sort(order[held_out:])
        splits["val"] = (images[val_idx], labels[val_idx])
        images, labels = images[train_idx], labels[train_idx]
    splits["train"] = (images, labels)
    return splits
