"""Labelled folders: every layout gives the same (path, label) list, every mistake one line."""

import os

import pytest

from paddle_mnist.data.folders import read_labelled_folder
from paddle_mnist.errors import DataError


def touch(path, data=b"not decoded here"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path)


def test_labels_from_sub_folders_skip_other_files(tmp_path):
    expected = [(touch(tmp_path / "3" / "a.png"), "3"), (touch(tmp_path / "3" / "b.JPG"), "3"),
                (touch(tmp_path / "7" / "scan.tif"), "7")]
    touch(tmp_path / "7" / "notes.txt")
    touch(tmp_path / "3" / ".hidden.png")
    touch(tmp_path / "README.md")
    assert read_labelled_folder(tmp_path) == sorted(expected)


def test_labels_from_file_names(tmp_path):
    expected = [(touch(tmp_path / "000_4.png"), "4"), (touch(tmp_path / "my_photo_9.jpeg"), "9")]
    assert read_labelled_folder(tmp_path) == sorted(expected)


def test_manifest_wins_and_keeps_extra_columns_out(tmp_path):
    first = touch(tmp_path / "cvl" / "000_0.png")     # the name says 0 ...
    second = touch(tmp_path / "usps" / "x.png")
    (tmp_path / "manifest.csv").write_text("file,label,source\ncvl/000_0.png,8,cvl\n"
                                           "\nusps/x.png, 2 ,usps\n")
    assert read_labelled_folder(tmp_path) == [(first, "8"), (second, "2")]  # ... the manifest 8


def test_classes_other_than_digits(tmp_path):
    path = touch(tmp_path / "x" / "a.png")
    assert read_labelled_folder(tmp_path, classes=("x", "o")) == [(path, "x")]


@pytest.mark.parametrize("layout, message", [
    ({}, "holds no images"),
    ({"notes.txt": b"x"}, "holds no images"),
    ({"photo.png": b"x"}, "cannot tell the label of .*photo.png: name it <anything>_<label>.png"),
    ({"a_12.png": b"x"}, "file name a_12.png: unknown label '12' .* one of 0, 1, 2"),
    ({"seven/a.png": b"x"}, "sub-folder .*seven: unknown label 'seven'"),
    ({"manifest.csv": b""}, "must start with a header naming the columns file and label"),
    ({"manifest.csv": b"name,digit\na.png,1\n"}, "header naming the columns file and label"),
    ({"manifest.csv": b"file,label\nmissing.png,1\n"}, "line 2: missing.png not found in"),
    ({"manifest.csv": b"file,label\na.png\n", "a.png": b"x"}, "line 2 has 1 column"),
    ({"manifest.csv": b"file,label\na.png,1\na.png,2\n", "a.png": b"x"}, "line 3: a.png is listed "
                                                                       "twice"),
    ({"manifest.csv": b"file,label\na.png,one\n", "a.png": b"x"}, "line 2: unknown label 'one'"),
    ({"manifest.csv": b"file,label\n\xff\xfe,1\n"}, "cannot read .*manifest.csv"),
], ids=["empty", "no-images", "unlabelled-name", "bad-name-label", "bad-sub-folder",
        "empty-manifest", "wrong-header", "missing-file", "short-row", "duplicate",
        "bad-manifest-label", "not-utf8"])
def test_mistakes_are_one_line_data_errors(tmp_path, layout, message):
    for name, data in layout.items():
        touch(tmp_path / name, data)
    with pytest.raises(DataError, match=message) as caught:
        read_labelled_folder(tmp_path)
    assert "\n" not in str(caught.value)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="image folder not found: .*nowhere"):
        read_labelled_folder(os.path.join(tmp_path, "nowhere"))
