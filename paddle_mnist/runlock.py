"""One training per output prefix: `<prefix>.lock`, held while a run writes there.

Two runs saving to the same checkpoint prefix would interleave their files
and VisualDL logs. The lock is an `fcntl.flock` on `<prefix>.lock`, so the
kernel releases it when the holder dies, even by SIGKILL: a lock file left
behind by a dead run is taken over (with a note) instead of blocking forever.
The file records who holds it, so the refusal names the other process.
"""

import datetime
import fcntl
import json
import os
import socket
import sys

from .errors import UserError


class OutputLocked(UserError):
    """Another training is writing to the same output prefix."""


def _describe(holder):
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {holder.get('started', '?')}")


def _read_holder(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw.decode("utf-8"))
    except ValueError:  # empty (the holder has not written yet) or not ours
        return {}
    return holder if isinstance(holder, dict) else {}


class RunLock:
    """Context manager holding `<prefix>.lock`; raises OutputLocked if it is taken."""

    def __init__(self, prefix):
        self.path = prefix + ".lock"
        self.fd = None

    def _open_locked(self):
        """An fd of the lock file that this process holds, or OutputLocked.

        The previous holder unlinks the file when it releases it, so a lock
        obtained on an already-unlinked file is worthless: retry on the new one.
        """
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise OutputLocked(
                    f"{self.path} is held by another training ({_describe(holder)}); "
                    "wait for it to finish or set another output.checkpoint") from None
            try:
                same_file = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same_file = False
            if same_file:
                return fd
            os.close(fd)

    def acquire(self):
        folder = os.path.dirname(self.path) or "."
        try:
            os.makedirs(folder, exist_ok=True)
            self.fd = self._open_locked()
        except OSError as err:
            problem = "it is a file" if os.path.isfile(folder) else err.strerror or err
            raise UserError(f"cannot write to the output folder {folder}: {problem}; "
                            "set output.checkpoint to a writable path") from None
        stale = _read_holder(self.fd)
        if stale:
            print(f"note: taking over {self.path} from a run that is no longer running "
                  f"({_describe(stale)})", file=sys.stderr)
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": datetime.datetime.now().isoformat(timespec="seconds"),
              "command": " ".join(sys.argv)}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(me).encode("utf-8"), 0)
        return self

    def release(self):
        if self.fd is None:
            return
        # unlink while still holding the lock, so nobody locks the doomed file
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
