"""One training per output prefix: `<prefix>.lock`, held while a run writes there.

Two runs saving to the same checkpoint prefix would interleave their files
and VisualDL logs. The lock is `filelock`'s, which uses the operating
system's own file locking where there is one (fcntl on Linux and macOS,
msvcrt on Windows), so a run that dies, even by SIGKILL, releases it; where
only a marker file is possible, filelock recognises one left by a dead
process (pid, host, process start) and takes it over. The holder record,
`<prefix>.lock.json` (pid, host, start time, command), is what a refusal
names, so the user knows which run is in the way.
"""

import datetime
import json
import os
import socket
import sys

import filelock

from .errors import OutputLocked, UserError


def _describe(holder):
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {holder.get('started', '?')}")


def _read_holder(path):
    try:
        with open(path, encoding="utf-8") as f:
            holder = json.load(f)
    except (OSError, ValueError):  # not written yet, or not ours
        return {}
    return holder if isinstance(holder, dict) else {}


class RunLock:
    """Context manager holding `<prefix>.lock`; raises OutputLocked if it is taken."""

    def __init__(self, prefix):
        self.path = prefix + ".lock"
        self.holder_path = self.path + ".json"
        self.lock = filelock.FileLock(self.path, timeout=0)

    def _take(self):
        try:
            self.lock.acquire()
        except filelock.Timeout:
            holder = _read_holder(self.holder_path)
            raise OutputLocked(f"{self.path} is held by another training ({_describe(holder)}); "
                               "wait for it to finish or set another output.checkpoint") from None

    def acquire(self):
        folder = os.path.dirname(self.path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            self._take()
        except OSError as err:
            problem = "it is a file" if os.path.isfile(folder) else err.strerror or err
            raise UserError(f"cannot write to the output folder {folder}: {problem}; "
                            "set output.checkpoint to a writable path") from None
        stale = _read_holder(self.holder_path)
        if stale:
            print(f"note: taking over {self.path} from a run that is no longer running "
                  f"({_describe(stale)})", file=sys.stderr)
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": " ".join(sys.argv)}
        with open(self.holder_path, "w", encoding="utf-8") as f:
            json.dump(me, f)
        return self

    def release(self):
        if not self.lock.is_locked:
            return
        # Both files go while the lock is still held: a peer that opened the old lock
        # file then finds it unlinked once it gets the lock, and filelock retries on a
        # fresh file. Windows cannot remove an open file; the empty lock file stays.
        for path in (self.holder_path, self.path):
            try:
                os.remove(path)
            except OSError:
                pass
        self.lock.release()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
