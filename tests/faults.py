"""Run tools/train.py with one fault injected at an exact moment.

    python tests/faults.py FAULT [tools/train.py arguments...]

The reliability tests need crashes at precise points (half-way through an
epoch, between two renames of a checkpoint save) that an outside timer
cannot hit reliably. The production code has no test hooks: this script
monkeypatches it, then runs tools/train.py as `__main__`. FAULT is one of

    kill-mid-epoch:E:S    SIGKILL before batch S of epoch E (both 0-based)
    kill-writing:N        SIGKILL while save number N writes its temporary files
    kill-renaming:N       SIGKILL after save N renamed its .pdparams, before its .pdopt
    disk-full:N           save number N fails with ENOSPC after writing part of a file
    pause:E:S:DIR         before batch S of epoch E, create DIR/ready and wait for DIR/go

Saves are counted on the run's own prefix (1 = end of the first epoch of
this process); saves of `<prefix>_best` are not counted.
"""

import errno
import os
import runpy
import signal
import sys
import time
from pathlib import Path

import paddle

from paddle_mnist import checkpoint
from paddle_mnist.data import loaders

TRAIN = Path(__file__).resolve().parents[1] / "tools" / "train.py"
saves = {"count": 0, "prefix": None}


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def count_saves():
    original = checkpoint.save_checkpoint

    def save(prefix, *args, **kwargs):
        if not prefix.endswith("_best"):
            saves["count"] += 1
            saves["prefix"] = prefix
        return original(prefix, *args, **kwargs)

    checkpoint.save_checkpoint = save


def at_batch(epoch, step, action):
    original = loaders.BatchLoader.__iter__

    def iterate(self):
        this_epoch = self.epoch
        for index, batch in enumerate(original(self)):
            if (this_epoch, index) == (epoch, step):
                action()
            yield batch

    loaders.BatchLoader.__iter__ = iterate


def during_save(number, patch_target, name, condition, action):
    """Wrap patch_target.name so that `action` runs instead when save `number` meets it."""
    original = getattr(patch_target, name)

    def wrapped(*args, **kwargs):
        if saves["count"] == number and condition(*args):
            return action(*args)
        return original(*args, **kwargs)

    setattr(patch_target, name, wrapped)


def pause(folder):
    Path(folder, "ready").touch()
    deadline = time.time() + 120
    while not Path(folder, "go").exists() and time.time() < deadline:
        time.sleep(0.02)


def fill_disk(state, path):
    with open(path, "wb") as f:
        f.write(b"\0" * 4096)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def install(fault):
    kind, *args = fault.split(":")
    count_saves()
    if kind == "kill-mid-epoch":
        at_batch(int(args[0]), int(args[1]), die)
    elif kind == "pause":
        at_batch(int(args[0]), int(args[1]), lambda: pause(args[2]))
    elif kind == "kill-writing":
        during_save(int(args[0]), checkpoint, "fsync_file",
                    lambda path: ".pdparams.tmp" in path, lambda path: die())
    elif kind == "kill-renaming":
        during_save(int(args[0]), checkpoint.os, "replace",
                    lambda src, dst: dst == saves["prefix"] + ".pdopt", lambda src, dst: die())
    elif kind == "disk-full":
        during_save(int(args[0]), paddle, "save", lambda state, path: True, fill_disk)
    else:
        raise SystemExit(f"unknown fault {fault!r}")


if __name__ == "__main__":
    install(sys.argv[1])
    sys.argv = [str(TRAIN), *sys.argv[2:]]
    runpy.run_path(str(TRAIN), run_name="__main__")
