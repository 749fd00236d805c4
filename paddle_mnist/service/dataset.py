"""The labelled records as a training/evaluation set: a folder per class of PNGs.

`tools/dataset.py export` writes DIR/<label>/<record>.png for each labelled
digit record and DIR/<digit>/<record>-<position>.png for each digit of a
labelled number (when the label has one digit per image), plus
DIR/manifest.csv describing every file. The folder is built under a
temporary name and renamed when complete, and an existing non-empty DIR is
refused, so a failed export never leaves a half-written or mixed data set.
"""

import csv
import os
import shutil
from pathlib import Path

from ..errors import UserError

MANIFEST_FIELDS = ("file", "label", "record", "position", "kind", "result", "model_name",
                   "model_version", "labelled_at")


def samples(record):
    """(file name, label, position) of each 28x28 image a labelled record gives."""
    images, label = record["images"], record["label"]
    if record["kind"] == "digit":
        return [(f"{record['id']}.png", label, 0)]
    if len(label) != len(images):
        return []  # the label does not say which digit is which image
    return [(f"{record['id']}-{position}.png", digit, position)
            for position, digit in enumerate(label)]


def export(store, out_dir):
    """Write the data set; returns {"files", "records", "skipped", "per_class"}."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir} already exists and is not an empty folder; choose a new "
                        "--out (nothing was written)")
    staging = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    try:
        summary = _write(store, staging)
        if out_dir.exists():
            out_dir.rmdir()
        staging.rename(out_dir)
    except OSError as err:
        raise UserError(f"cannot write the data set to {out_dir}: {err.strerror or err}; "
                        "nothing was written") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _write(store, folder):
    folder.mkdir(parents=True)
    summary = {"files": 0, "records": 0, "skipped": 0, "per_class": {}}
    with open(folder / "manifest.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, MANIFEST_FIELDS)
        writer.writeheader()
        for record in store.labelled_records():
            found = samples(record)
            summary["records"] += 1
            summary["skipped"] += not found
            for name, label, position in found:
                (folder / label).mkdir(exist_ok=True)
                (folder / label / name).write_bytes(record["images"][position]["png"])
                writer.writerow({"file": f"{label}/{name}", "label": label,
                                 "record": record["id"], "position": position,
                                 "kind": record["kind"], "result": record["result"],
                                 "model_name": record["model"]["name"],
                                 "model_version": record["model"]["version"],
                                 "labelled_at": record["labelled_at"].isoformat()})
                summary["files"] += 1
                summary["per_class"][label] = summary["per_class"].get(label, 0) + 1
    summary["per_class"] = dict(sorted(summary["per_class"].items()))
    return summary
