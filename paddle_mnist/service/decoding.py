"""A bound on how many uploads the server decodes at once, so memory has a ceiling.

Decoding and preparing one 16-megapixel PNG takes about 240 MB for a moment (a
JPEG, decoded at reduced size, about 40 MB). Each worker thread would otherwise
decode its own upload at the same time as every other, so a few dozen parallel
uploads, or a server started with many threads, could exhaust the machine.
Requests beyond the limit wait a short while for a free slot (most decodes take
well under a second), then are answered 503 `busy` with `Retry-After`, which a
client can act on; the page shows the message in its language.
"""

import os
import threading
from contextlib import contextmanager

# Decoding is CPU work: more decodes at once than cores adds memory, not speed.
DECODE_SLOTS = min(8, max(2, os.cpu_count() or 2))
DECODE_WAIT_SECONDS = 5.0


class Busy(Exception):
    """Every decode slot stayed taken for the whole wait."""


class DecodeSlots:
    """At most `slots` decodes at once; `taken()` waits `wait_seconds` for one."""

    def __init__(self, slots=DECODE_SLOTS, wait_seconds=DECODE_WAIT_SECONDS):
        if slots < 1 or wait_seconds < 0:
            raise ValueError(f"need at least one slot and a wait >= 0, got {slots}, "
                             f"{wait_seconds}")
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._free = threading.BoundedSemaphore(slots)

    @contextmanager
    def taken(self):
        if not self._free.acquire(timeout=self.wait_seconds):
            raise Busy(f"the server is already decoding {self.slots} images and none finished "
                       f"within {self.wait_seconds:g} s; try again in a moment")
        try:
            yield
        finally:
            self._free.release()
