"""Every answer the service gives becomes a record: this is the one way in.

`/api/predict` records a digit; the number reader (`/api/read`, see
`service.reading`) records a number through the same `Recorder.record`, with
one `DigitImage` (PNG and box in the original picture) per digit. The model version stored with each
record identifies the export exactly, whichever backend runs it.
"""

import hashlib
import io

from PIL import Image

from ..files import sha256_file
from ..store import DigitImage, Recognition

MAX_ORIGINAL_BYTES = 1024 * 1024  # --keep-originals keeps uploads up to this size


def model_version(spec):
    """sha256 over the export's model files, as its `.preprocess.json` lists them.

    The text hashed is one line "<suffix> <sha256 of that file>" per file,
    sorted by suffix (".json", ".onnx", ".pdiparams"), so the Paddle Inference
    and the ONNX Runtime run of one export share a version and any changed
    file changes it. A training checkpoint served directly (no export) is
    versioned by the sha256 of its `.pdparams`.
    """
    files = spec.files
    if files:
        listing = "".join(f"{suffix} {files[suffix]}\n" for suffix in sorted(files))
        return hashlib.sha256(listing.encode("ascii")).hexdigest()
    return sha256_file(spec.source + ".pdparams")


def png_bytes(pixels):
    """uint8 HxW -> PNG file bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").save(buffer, "PNG")
    return buffer.getvalue()


def digit_image(pixels, box=None):
    """A 28x28 image the model saw, ready to store (and to show: `.png`)."""
    return DigitImage(png=png_bytes(pixels), box=None if box is None else
                      tuple(int(side) for side in box))


class Recorder:
    """Stores recognitions; `record` returns the new record's id or raises
    StoreError (answered 503) when the database cannot take it."""

    def __init__(self, store, keep_originals=False, max_original_bytes=MAX_ORIGINAL_BYTES):
        self.store = store
        self.keep_originals, self.max_original_bytes = keep_originals, max_original_bytes

    def record(self, live, kind, result, probabilities, latency_ms, images, original=None):
        """`live` (service.models.Live) is the model that answered. kind "digit":
        result "7", probabilities [p0..p9], one image; kind "number": result
        "4071", probabilities one list per digit, one image per digit, each with
        its box."""
        keep = (self.keep_originals and original is not None
                and len(original) <= self.max_original_bytes)
        return self.store.add(Recognition(
            kind=kind, model_name=live.spec.model, model_version=live.version,
            result=str(result), probabilities=probabilities, latency_ms=round(latency_ms, 3),
            images=list(images), original=bytes(original) if keep else None))
