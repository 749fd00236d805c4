"""Small file operations that checkpoints, exports and registries all need:
content hashes, durable writes and atomic replacement, the same on every OS."""

import hashlib
import json
import os


def sha256_file(path):
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(data):
    """Hex sha256 of a JSON value in canonical form (sorted keys, no spaces)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_json_durably(path, data):
    """Write `data` as JSON to `path` and flush it to the disk before returning."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, allow_nan=False)
        f.flush()
        os.fsync(f.fileno())


def fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_folder(folder):
    """Make renames inside `folder` durable. POSIX needs the directory itself
    synced; Windows cannot open a directory and commits renames on its own."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
