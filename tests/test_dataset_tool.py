"""tools/dataset.py on a real record database: the labelled samples as a data set.

The database is filled through the store (as the service fills it) with real
PNGs; the tool runs as a user runs it, in its own process.
"""

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import run_tool
from paddle_mnist.store import DigitImage, Recognition, open_store
from pg import fresh_database


def png(value):
    buffer = io.BytesIO()
    Image.fromarray(np.full((28, 28), value, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def fill(db):
    store = open_store(db)
    ids = {}
    for name, result, label in (("right", "7", "7"), ("wrong", "7", "1"), ("open", "3", None)):
        ids[name] = store.add(Recognition("digit", "lenet", "v1", result, [0.1] * 10, 2.0,
                                          [DigitImage(png(len(ids) * 40))]))
        if label:
            store.label(ids[name], label)
    ids["number"] = store.add(Recognition("number", "lenet", "v1", "401", [[0.1] * 10] * 3,
                                          5.0, [DigitImage(png(200 + i), (i * 20, 0, i * 20 + 19,
                                                                          28)) for i in range(3)]))
    store.label(ids["number"], "481")
    ids["short"] = store.add(Recognition("number", "lenet", "v1", "12", [[0.1] * 10] * 2, 5.0,
                                         [DigitImage(png(1)), DigitImage(png(2))]))
    store.label(ids["short"], "123")  # three digits for two images: unusable for training
    store.close()
    return ids


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "records.db")
    else:
        with fresh_database() as url:
            yield url


def test_export_writes_a_folder_per_class_and_a_manifest(db, tmp_path):
    ids = fill(db)
    out = tmp_path / "labelled"
    proc = run_tool("dataset.py", "export", "--db", db, "--out", out, cwd=tmp_path)
    assert "wrote 5 images from 4 labelled records" in proc.stdout
    assert "skipped 1 number records" in proc.stdout
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert files == sorted([f"7/{ids['right']}.png", f"1/{ids['wrong']}.png",
                            f"4/{ids['number']}-0.png", f"8/{ids['number']}-1.png",
                            f"1/{ids['number']}-2.png"])
    assert np.asarray(Image.open(out / "1" / f"{ids['wrong']}.png")).max() == 40
    assert np.asarray(Image.open(out / "8" / f"{ids['number']}-1.png")).max() == 201
    with open(out / "manifest.csv", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    assert [(r["file"], r["label"], r["result"]) for r in rows][:2] == [
        (f"7/{ids['right']}.png", "7", "7"), (f"1/{ids['wrong']}.png", "1", "7")]
    assert {r["model_version"] for r in rows} == {"v1"}
    assert not list(tmp_path.glob(".labelled.partial-*"))


def test_stats_counts_records_and_labels(db, tmp_path):
    fill(db)
    proc = run_tool("dataset.py", "stats", "--db", db, "--json", cwd=tmp_path)
    assert json.loads(proc.stdout) == {"records": 5, "labelled": 4, "wrong": 3,
                                       "per_class": {"1": 1, "7": 1}}


def test_an_existing_folder_is_never_overwritten(tmp_path):
    db = str(tmp_path / "records.db")
    fill(db)
    out = tmp_path / "labelled"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    proc = run_tool("dataset.py", "export", "--db", db, "--out", out, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert "not an empty folder" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_a_missing_database_is_one_line(tmp_path):
    proc = run_tool("dataset.py", "stats", "--db", tmp_path / "none.db", cwd=tmp_path,
                    check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: no record database at")
    assert not (tmp_path / "none.db").exists()
