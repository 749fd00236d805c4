"""One VisualDL record file per run, continued by every leg of it.

VisualDL's server shows one record file per folder, the one whose
`vdlrecords.*` name sorts last (the newest), so a resumed leg that started a
file of its own would hide everything logged before it. `LogWriter(logdir,
file_name=NAME)` appends to an existing file instead (VisualDL's local file
system opens it in append mode for every record), so all legs of a run write
the file named in its sidecar (`RunState.log_file`).

A crash leaves two things in that file that must not stay: the records of
the steps and epochs after the last checkpoint, which the resumed run trains,
and logs, again; and, after SIGKILL, possibly one record cut off half-way,
after which VisualDL's reader would misread everything appended. So before
a resumed leg appends, `continue_file` keeps only the records the checkpoint
covers and rewrites the file atomically (a temporary file renamed over it).

Which records a checkpoint covers follows from the tags: `train/...` are
numbered by global step, the end-of-run records (`test/...`, `best/...`,
hyper parameters, embeddings) are dropped because the run has not ended yet,
and everything else is numbered by epoch.
"""

import os
import struct
import time

from visualdl.proto.record_pb2 import Record

from ..files import fsync_file, fsync_folder

STEP_TAGS = "train/"              # id = global step
FINAL_TAGS = ("test/", "best/")   # written once the run is complete
FINAL_KINDS = ("hparam", "embeddings")
HEADER = struct.Struct("<Q")      # VisualDL's framing: payload length, then the payload


def new_file_name():
    """The record file of a new run, named as VisualDL names its own: 'vdlrecords'
    (which its server looks for) and the time, so a newer file sorts last."""
    return f"vdlrecords.{int(time.time()):010d}.log"


def read_records(path):
    """([(raw bytes, Record)] of the complete records in `path`, True if nothing was
    torn off the end)."""
    with open(path, "rb") as f:
        data = f.read()
    records, position = [], 0
    while position + HEADER.size <= len(data):
        (length,) = HEADER.unpack_from(data, position)
        end = position + HEADER.size + length
        if end > len(data):
            break
        record = Record()
        try:
            record.ParseFromString(data[position + HEADER.size:end])
        except Exception:  # protobuf's DecodeError: the tail of a torn write
            break
        records.append((data[position:end], record))
        position = end
    return records, position == len(data)


def covered(record, steps, epochs):
    """Does a checkpoint at global step `steps`, epoch `epochs` cover `record`?"""
    value = record.values[0] if record.values else None
    if value is None:
        return False
    kind = value.WhichOneof("one_value")
    if kind == "meta_data":
        return True
    if kind in FINAL_KINDS or value.tag.startswith(FINAL_TAGS):
        return False
    return value.id <= (steps if value.tag.startswith(STEP_TAGS) else epochs)


def continue_file(path, steps, epochs):
    """Cut the record file at `path` back to what the checkpoint (global step
    `steps`, epoch `epochs`) covers; returns how many records were dropped."""
    if not os.path.isfile(path):
        return 0
    records, complete = read_records(path)
    kept = [raw for raw, record in records if covered(record, steps, epochs)]
    if complete and len(kept) == len(records):
        return 0
    folder = os.path.dirname(path) or "."
    # not a 'vdlrecords' name, so a VisualDL server never takes it for the run's file
    temporary = os.path.join(folder, f".continue-{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as f:
            f.write(b"".join(kept))
        fsync_file(temporary)
        os.replace(temporary, path)
        fsync_folder(folder)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return len(records) - len(kept)
