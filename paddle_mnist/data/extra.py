"""Users' own labelled images as training data beside MNIST.

Two kinds of source (config `data.extra`): a labelled folder, read the way
`tools/eval.py --images` reads one, and the service's record database, whose
labelled records hold the very 28x28 images the model saw. A folder's files
go through the same preprocessing as prediction, so training sees what
prediction will see; that is done once and cached as arrays next to the run,
under a key made of every file's content (and the preprocessing code), so a
changed file is read again and an unchanged folder costs nothing.

Part of each source is held out and never trained on, to measure the model
on the users' own handwriting: a seeded random split decided per sample by a
hash of its id (a sample held out once stays held out as the source grows),
or by time (the newest records). A label that is not a digit, or a number
whose digits do not match its images, is skipped and counted, never fatal.
"""

import hashlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, ImageError, StoreError

DIGITS = tuple(str(d) for d in range(10))


@dataclass
class ExtraData:
    """One source, loaded: what is trained on and what is held out."""

    name: str
    share: float
    train_images: np.ndarray      # uint8 [N, 28, 28]
    train_labels: np.ndarray      # int64 [N]
    holdout_images: np.ndarray
    holdout_labels: np.ndarray
    holdout_ids: list             # sample ids, recorded in the sidecar
    newest_record: int = 0        # for a database: the newest labelled record used
    skipped: dict = field(default_factory=dict)   # reason -> count

    def describe(self):
        """What the sidecar records of this source."""
        return {"source": self.name, "share": self.share, "train": int(len(self.train_labels)),
                "holdout": int(len(self.holdout_labels)), "holdout_ids": list(self.holdout_ids),
                "newest_record": self.newest_record, "skipped": dict(self.skipped)}


def in_holdout(sample_id, fraction, seed):
    """The seeded random split: stable per sample, whatever else the source holds."""
    digest = hashlib.sha256(f"{seed}:{sample_id}".encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split(samples, source):
    """(train, held out) lists of (id, image, label, order) by the source's split rule."""
    if source.split == "time":
        ordered = sorted(samples, key=lambda sample: sample[3])
        cut = len(ordered) - round(source.holdout * len(ordered))
        return ordered[:cut], ordered[cut:]
    held = [in_holdout(sample[0], source.holdout, source.seed) for sample in samples]
    return ([s for s, h in zip(samples, held) if not h], [s for s, h in zip(samples, held) if h])


def _stack(samples):
    if not samples:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64)
    return (np.stack([image for _, image, _, _ in samples]).astype(np.uint8),
            np.array([int(label) for _, _, label, _ in samples], np.int64))


def _decode_png(data):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("L"))
    if pixels.shape != (28, 28):
        raise ValueError("not 28x28")
    return pixels


def database_samples(url, until=None):
    """[(id, 28x28, label, record id)] of every usable labelled record, and skip counts.

    A digit record gives one sample; a number record one per digit when its
    label has as many digits as it has images (ids "record:position"); with
    `until`, only records up to that id (a fixed snapshot of a growing database)."""
    from ..store import open_store

    if "://" not in url and not os.path.isfile(url):
        raise DataError(f"data.extra: record database not found: {url} (give the file "
                        "tools/serve.py keeps its records in, e.g. service/records.db)")
    samples, skipped = [], {}

    def skip(reason):
        skipped[reason] = skipped.get(reason, 0) + 1

    store = open_store(url, pool_size=1)
    try:
        for record in store.labelled_records():
            if until is not None and record["id"] > until:
                break  # oldest first
            label, images = record["label"], record["images"]
            if not images:
                skip("no image stored")
                continue
            digits = list(label) if record["kind"] == "number" else [label]
            if not all(d in DIGITS for d in digits) or len(digits) != len(images):
                skip("label is not a digit" if record["kind"] == "digit"
                     else "label does not match the digits read")
                continue
            for position, (digit, image) in enumerate(zip(digits, images)):
                try:
                    pixels = _decode_png(image["png"])
                except (OSError, ValueError):
                    skip("image unreadable")
                    continue
                sample_id = (f"record {record['id']}" if record["kind"] == "digit"
                             else f"record {record['id']}:{position}")
                samples.append((sample_id, pixels, digit, record["id"]))
    finally:
        store.close()
    return samples, skipped


def _preprocessing_code_key():
    here = Path(__file__).resolve().parents[1]
    return b"".join((here / name).read_bytes() for name in ("preprocess.py", "ink.py",
                                                             "images.py"))


def folder_samples(folder, cache_dir=None):
    """[(relative path, 28x28, label, mtime)] of a labelled folder, preprocessed as
    prediction does it (cached in `cache_dir`), and the skip counts."""
    from ..preprocess import prepare_file
    from .folders import read_labelled_folder

    items = read_labelled_folder(folder)
    key = hashlib.sha256(_preprocessing_code_key())
    for path, label in items:
        with open(path, "rb") as f:
            key.update(f"{os.path.relpath(path, folder)}\0{label}\0".encode(
                "utf-8", "surrogateescape") + hashlib.sha256(f.read()).digest())
    cached = os.path.join(cache_dir, key.hexdigest() + ".npz") if cache_dir else None
    if cached and os.path.isfile(cached):
        with np.load(cached, allow_pickle=False) as data:
            samples = list(zip(data["ids"].tolist(), data["images"], data["labels"].tolist(),
                               data["order"].tolist()))
            return samples, dict(zip(data["skip_reasons"].tolist(), data["skip_counts"].tolist()))
    samples, skipped = [], {}
    for path, label in items:
        try:
            pixels = prepare_file(path)
        except ImageError:
            skipped["no digit or not an image"] = skipped.get("no digit or not an image", 0) + 1
            continue
        samples.append((os.path.relpath(path, folder), pixels, label, os.path.getmtime(path)))
    if cached:
        _save_cache(cached, samples, skipped)
    return samples, skipped


def _save_cache(path, samples, skipped):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}.npz"
    images, _ = _stack(samples)
    np.savez(tmp, ids=np.array([s[0] for s in samples], dtype=str), images=images,
             labels=np.array([s[2] for s in samples], dtype=str),
             order=np.array([s[3] for s in samples], dtype=np.float64),
             skip_reasons=np.array(list(skipped), dtype=str),
             skip_counts=np.array(list(skipped.values()), dtype=np.int64))
    os.replace(tmp, path)


def load_extra(sources, cache_dir=None):
    """[ExtraData] for the config's `data.extra` sources."""
    loaded = []
    for source in sources:
        if source.db is not None:
            try:
                samples, skipped = database_samples(source.db, source.until)
            except StoreError as err:
                raise DataError(f"data.extra: {err}") from None
            from ..store import describe_url

            name = f"db {describe_url(source.db)}"
        else:
            samples, skipped = folder_samples(source.path, cache_dir)
            name = f"folder {source.path}"
        train, held = split(samples, source)
        if not train:
            raise DataError(f"data.extra {name} has no labelled image to train on ("
                            f"{len(samples)} usable, {len(held)} of them held out; skipped: "
                            f"{skipped or 'none'})")
        (train_images, train_labels), (held_images, held_labels) = _stack(train), _stack(held)
        newest = max((s[3] for s in samples), default=0) if source.db is not None else 0
        loaded.append(ExtraData(name, source.share, train_images, train_labels, held_images,
                                held_labels, [s[0] for s in held], int(newest), skipped))
    return loaded
