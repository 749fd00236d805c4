"""MNIST from IDX files to batches: the reader, the splits, the loaders, the transforms."""

import gzip
import os

import numpy as np
import pytest

from paddle_mnist.config import from_dict
from paddle_mnist.data import ArrayDataset, BatchLoader, load_splits, read_mnist, to_input
from paddle_mnist.data.idx import FILES, read_labels, read_split
from paddle_mnist.errors import ConfigError, DataError


def write_idx(path, magic, array, truncate=0):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    with gzip.open(path, "wb") as f:
        f.write(data[:len(data) - truncate])


def small_mnist(folder, n=20, labels_n=None, seed=0):
    rng = np.random.RandomState(seed)
    images = rng.randint(0, 256, (n, 28, 28))
    labels = rng.randint(0, 10, labels_n or n)
    for split in ("train", "test"):
        image_file, label_file = FILES[split]
        write_idx(folder / image_file, 2051, images)
        write_idx(folder / label_file, 2049, labels)
    return images, labels


def test_reader_matches_paddles_own_mnist_parser(mnist_root):
    from paddle.vision.datasets import MNIST

    image_file, label_file = (os.path.join(mnist_root, f) for f in FILES["test"])
    reference = MNIST(image_path=image_file, label_path=label_file, mode="test", download=False)
    images, labels = read_split(mnist_root, "test")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    for i in (0, 1, 4321, 9999):
        image, label = reference[i]
        np.testing.assert_array_equal(np.asarray(image, dtype=np.uint8).reshape(28, 28), images[i])
        assert int(label[0]) == labels[i]


def test_real_training_set_is_complete(mnist_root):
    images, labels = read_mnist(mnist_root, "train")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842,
                                            5421, 5918, 6265, 5851, 5949]


def test_small_files_written_here_round_trip(tmp_path):
    images, labels = small_mnist(tmp_path)
    got_images, got_labels = read_split(str(tmp_path), "train")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


@pytest.mark.parametrize("damage, message", [
    ("truncate", "holds 15670 data bytes but its header promises 15680"),
    ("magic", "has IDX magic number 2049, expected 2051"),
    ("not_gzip", "is not a complete gzip file"),
    ("cut_gzip", "is not a complete gzip file"),
    ("missing", "MNIST file not found"),
    ("lengths", "has 20 images but"),
])
def test_damaged_files_are_named(tmp_path, damage, message):
    images, _ = small_mnist(tmp_path, labels_n=19 if damage == "lengths" else None)
    image_file = tmp_path / FILES["train"][0]
    if damage == "truncate":
        write_idx(image_file, 2051, images, truncate=10)
    elif damage == "magic":
        write_idx(image_file, 2049, images)
    elif damage == "not_gzip":
        image_file.write_bytes(b"not a gzip file at all")
    elif damage == "cut_gzip":
        image_file.write_bytes(image_file.read_bytes()[:100])
    elif damage == "missing":
        image_file.unlink()
    with pytest.raises(DataError) as err:
        read_split(str(tmp_path), "train")
    assert message in str(err.value)
    assert str(image_file) in str(err.value)


def test_labels_out_of_range(tmp_path):
    write_idx(tmp_path / "labels.gz", 2049, np.array([1, 12]))
    with pytest.raises(DataError, match="MNIST labels are 0-9"):
        read_labels(str(tmp_path / "labels.gz"))


def test_missing_folder_says_how_to_fix():
    with pytest.raises(DataError, match="PADDLE_MNIST_DATA"):
        read_split("/no/such/folder", "train")


def test_validation_split_is_seeded_and_disjoint(tmp_path):
    small_mnist(tmp_path, n=50)
    config = from_dict({"data": {"root": str(tmp_path), "val_split": 10}})
    first, again = load_splits(config.data, seed=1), load_splits(config.data, seed=1)
    other = load_splits(config.data, seed=2)
    assert len(first["val"][0]) == 10 and len(first["train"][0]) == 40
    np.testing.assert_array_equal(first["val"][0], again["val"][0])
    assert not np.array_equal(first["val"][0], other["val"][0])
    train_rows = {img.tobytes() for img in first["train"][0]}
    assert not any(img.tobytes() in train_rows for img in first["val"][0])


def test_to_input_normalises_and_pads():
    image = np.zeros((28, 28), np.uint8)
    image[10, 10] = 255
    x = to_input(image[None], input_size=28)
    assert x.shape == (1, 1, 28, 28) and x.dtype == np.float32
    assert x.min() == -1.0 and x[0, 0, 10, 10] == 1.0
    padded = to_input(image[None], input_size=32)
    assert padded.shape == (1, 1, 32, 32) and padded[0, 0, 12, 12] == 1.0
    assert padded[0, 0, 0, 0] == -1.0  # padding is background, not zero


def _epoch(loader):
    return [(x.numpy(), y.numpy()) for x, y in loader]


def test_batch_loader_covers_each_image_once_in_a_seeded_order():
    images = np.arange(10 * 28 * 28, dtype=np.uint32).reshape(10, 28, 28).astype(np.uint8)
    labels = np.arange(10) % 10
    dataset = ArrayDataset(images, labels)
    loader = BatchLoader(dataset, 4, seed=3)
    first = _epoch(loader)
    second = _epoch(loader)
    assert [len(y) for _, y in first] == [4, 4, 2]
    seen = np.concatenate([y.ravel() for _, y in first])
    assert sorted(seen.tolist()) == labels.tolist()
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, second))  # reshuffled
    replay = BatchLoader(dataset, 4, seed=3)
    replay.set_epoch(1)  # a resumed run sees the batches the uninterrupted one saw
    for (x, y), (x2, y2) in zip(second, _epoch(replay)):
        np.testing.assert_array_equal(x, x2)
        np.testing.assert_array_equal(y, y2)
    assert loader.samples_seen == 20


def test_batch_loader_caps_steps():
    dataset = ArrayDataset(np.zeros((100, 28, 28), np.uint8), np.zeros(100, np.int64))
    loader = BatchLoader(dataset, 10, max_steps=3)
    assert len(loader) == 3 and len(_epoch(loader)) == 3


def test_identity_augmentation_changes_nothing_and_shifts_keep_background():
    config = from_dict({"data": {"augment": {"enabled": True, "degrees": 0, "translate": 0,
                                             "scale": [1.0, 1.0]}}})
    images = np.zeros((8, 28, 28), np.uint8)
    images[:, 8:20, 12:16] = 255
    dataset = ArrayDataset(images, np.zeros(8, np.int64))
    x, _ = next(iter(BatchLoader(dataset, 8, augment=config.data.augment, shuffle=False)))
    np.testing.assert_allclose(x.numpy(), to_input(images), atol=1e-5)
    moved = config.data.augment
    moved.translate, moved.degrees = 0.2, 15
    x, _ = next(iter(BatchLoader(dataset, 8, augment=moved, shuffle=False)))
    x = x.numpy()
    assert x.min() >= -1.0 - 1e-5 and x.max() <= 1.0 + 1e-5
    assert np.isclose(x[:, :, 0, :], -1.0, atol=1e-4).all()  # edges still background
    assert not np.allclose(x, to_input(images), atol=1e-3)


@pytest.mark.parametrize("setting, check", [
    ({"thickness": [1.0, 1.0]}, lambda x, base: (x > -0.5).sum() > 1.3 * (base > -0.5).sum()),
    ({"thickness": [-0.5, -0.5]}, lambda x, base: (x + 1).sum() < 0.9 * (base + 1).sum()),
    ({"shear": 30}, lambda x, base: not np.allclose(x, base, atol=1e-3)),
    ({"aspect": 0.5}, lambda x, base: not np.allclose(x, base, atol=1e-3)),
    ({"elastic": 1.5}, lambda x, base: not np.allclose(x, base, atol=1e-3)),
    ({"blur": 1.5}, lambda x, base: ((x > -0.99) & (x < 0.99)).sum()
     > ((base > -0.99) & (base < 0.99)).sum()),
    ({"binarize": 1.0}, lambda x, base: len(np.unique(np.round(x, 4))) == 2),
], ids=["thicker", "thinner", "shear", "aspect", "elastic", "blur", "binarize"])
def test_each_augmentation_does_its_part_and_keeps_the_background(setting, check):
    plain = {"enabled": True, "degrees": 0, "translate": 0, "scale": [1.0, 1.0]}
    config = from_dict({"data": {"augment": dict(plain, **setting)}})
    images = np.zeros((8, 28, 28), np.uint8)
    images[:, 6:22, 12:15] = 255
    images[:, 6:9, 8:20] = 200
    dataset = ArrayDataset(images, np.zeros(8, np.int64))

    def batch(seed):
        loader = BatchLoader(dataset, 8, seed=seed, augment=config.data.augment, shuffle=False)
        return next(iter(loader))[0].numpy()

    x = batch(0)
    base = to_input(images)
    assert check(x, base)
    assert np.isclose(x[:, :, :2, :], -1.0, atol=1e-4).all()  # edges still background
    assert x.max() <= 1.0 + 1e-4 and x.max() > 0.5          # peak kept at the ink's level
    np.testing.assert_array_equal(x, batch(0))               # seeded: a resumed run replays it


def test_thickness_range_is_checked():
    with pytest.raises(ConfigError, match="data.augment.thickness"):
        from_dict({"data": {"augment": {"thickness": [1.0, -1.0]}}})
