"""Labelled folders of images: the way users keep their own digits with the truth.

A user who wants to check a model on their own scans (and, later, to train on
them) has a folder of images and knows what each one shows. Three layouts
are common and all are read here, so every tool agrees on what the label of
a file is:

- `manifest.csv` in the folder, with a header naming at least the columns
  `file` (a path relative to the folder) and `label`; other columns are kept
  out of the way (`source`, notes). When it exists it is the only truth;
- sub-folders named by the label: `DIR/7/scan-01.png`;
- the label at the end of the file name: `DIR/0042_7.png`, `DIR/seven_7.jpg`.

Only files with an image extension count, so a README or the manifest
itself never becomes an image. Mistakes are `DataError`s of one line naming
the file and the fix.
"""

import csv
import os
import re

from ..errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp",
                    ".ppm", ".pgm")
DIGITS = tuple(str(d) for d in range(10))
MANIFEST = "manifest.csv"
LABEL_IN_NAME = re.compile(r"_([^_]+)$")


def is_image_name(name):
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def read_labelled_folder(folder, classes=DIGITS):
    """[(path, label)] of every image under `folder`, sorted by path.

    `label` is a string from `classes` (the digits by default). Raises
    DataError for a missing or empty folder, an unreadable or malformed
    manifest, a file whose label cannot be told, or a label not in `classes`.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise DataError(f"image folder not found: {folder} (give a folder of labelled images)")
    manifest = os.path.join(folder, MANIFEST)
    if os.path.isfile(manifest):
        items = _from_manifest(folder, manifest)
    else:
        items = _from_layout(folder)
    if not items:
        raise DataError(f"{folder} holds no images (expected {', '.join(IMAGE_EXTENSIONS)} "
                        f"files labelled by sub-folder, by a _<label> name ending, or by "
                        f"{MANIFEST})")
    for path, label, where in items:
        if label not in classes:
            raise DataError(f"{where}: unknown label {label!r} for {path}; labels must be one "
                            f"of {', '.join(classes)}")
    return sorted((path, label) for path, label, _ in items)


def _from_manifest(folder, manifest):
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {manifest}: {getattr(err, 'strerror', None) or err}") from None
    except csv.Error as err:
        raise DataError(f"{manifest} is not valid CSV ({err})") from None
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "file" not in header or "label" not in header:
        raise DataError(f"{manifest} must start with a header naming the columns file and label "
                        f"(e.g. 'file,label'), got {','.join(rows[0]) if rows else 'an empty file'}")
    file_col, label_col = header.index("file"), header.index("label")
    items, seen = [], set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{manifest} line {number}"
        if len(row) <= max(file_col, label_col):
            raise DataError(f"{where} has {len(row)} column(s); expected file and label")
        name, label = row[file_col].strip(), row[label_col].strip()
        path = os.path.normpath(os.path.join(folder, name))
        if not os.path.isfile(path):
            raise DataError(f"{where}: {name} not found in {folder}")
        if path in seen:
            raise DataError(f"{where}: {name} is listed twice")
        seen.add(path)
        items.append((path, label, where))
    return items


def _from_layout(folder):
    """Images in labelled sub-folders and images labelled by their name ending."""
    items = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith("."):
            for name in sorted(os.listdir(entry.path)):
                path = os.path.join(entry.path, name)
                if is_image_name(name) and os.path.isfile(path):
                    items.append((path, entry.name, f"sub-folder {entry.path}"))
        elif entry.is_file() and is_image_name(entry.name):
            match = LABEL_IN_NAME.search(os.path.splitext(entry.name)[0])
            if not match:
                raise DataError(f"cannot tell the label of {entry.path}: name it <anything>_"
                                f"<label>{os.path.splitext(entry.name)[1]}, move it into a "
                                f"sub-folder named by its label, or list it in {MANIFEST}")
            items.append((entry.path, match.group(1), f"file name {entry.name}"))
    return items
