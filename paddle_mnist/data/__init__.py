"""MNIST from IDX files to batches: `source` finds and splits the data,
`transforms` turns pixels into network input, `loaders` batches it."""

from .loaders import ArrayDataset, BatchLoader, eval_loader
from .source import DATA_ENV, load_splits, read_mnist, resolve_root
from .transforms import to_input

__all__ = ["ArrayDataset", "BatchLoader", "DATA_ENV", "eval_loader", "load_splits",
           "read_mnist", "resolve_root", "to_input"]
