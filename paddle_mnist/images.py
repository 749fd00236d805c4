"""Open users' image files safely and flatten any PIL mode to one grey channel.

Images come from the command line and from the web demo's uploads, so a file
can be anything: empty, truncated, not an image, a decompression bomb that
claims 20000x20000 pixels, a 16-bit scan, a CMYK JPEG, an animated GIF or a
drawing-pad PNG whose strokes exist only in the alpha channel. Every such
problem becomes one `ImageError` line naming the file, and the size is checked
from the header before a single pixel is decoded.
"""

import io
import os
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import ImageError

# Formats a phone, scanner or drawing app produces. Leaving the rest out keeps
# PIL from handing uploads to riskier decoders (EPS, for one, runs Ghostscript).
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM")

# Even uncompressed 16-bit RGBA needs no more; a longer file is not a picture
# (a video, a disk image) and is refused without reading it all.
BYTES_PER_PIXEL = 8

# Opaque pixels covering more of the canvas than this are the picture itself
# (transparent margins are padding); fewer are strokes on a transparent canvas.
OPAQUE_SCENE_FRACTION = 0.5


def load_image(source, *, name=None, max_pixels=40_000_000, gray_side=None):
    """Decode the first frame of an image file (path or bytes), upright per EXIF.

    With `gray_side`, for callers that only need a grey picture: a colour JPEG
    is decoded straight to grey, and a JPEG bigger than that is decoded at the
    smallest of its decoder's scales (1/2, 1/4, 1/8) that keeps the longer
    side at least `gray_side` pixels, which is several times faster.

    Raises ImageError naming `name` (default: the path, or "image bytes") for a
    missing, empty, unreadable, truncated or too large (> max_pixels) image.
    """
    name = source_name(source, name)
    max_bytes = BYTES_PER_PIXEL * max_pixels
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        try:
            with open(source, "rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as err:
            raise ImageError(f"cannot read image {name}: {err.strerror or err}") from None
    if not data:
        raise ImageError(f"image {name} is an empty file")
    if len(data) > max_bytes:
        raise ImageError(f"{name} is over {max_bytes // 2**20} MiB, too big for a picture "
                         f"of at most {max_pixels:,} pixels")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.simplefilter("ignore", UserWarning)  # PIL's notes on damaged EXIF tags
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(f"image {name} is {width}x{height} pixels, more than the "
                                 f"{max_pixels:,} allowed; send a smaller picture")
            if gray_side and image.format == "JPEG":
                scale = gray_side / max(width, height)
                image.draft("L", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(f"image {name} is refused as a decompression bomb ({err})") from None
    except Image.UnidentifiedImageError:
        raise ImageError(f"{name} is not an image PIL can read (expected one of "
                         f"{', '.join(FORMATS)})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(f"image {name} is truncated or corrupt ({err})") from None


def source_name(source, name=None):
    """How messages call an image: the given name, else its path or "image bytes"."""
    if name:
        return name
    return "image bytes" if isinstance(source, (bytes, bytearray, memoryview)) else os.fspath(source)


def to_gray(image):
    """PIL image of any mode, or array -> float32 grey levels in [0, 1].

    Arrays are uint8/uint16 HxW, or uint8 HxWx3 / HxWx4 as PIL would give them,
    or float HxW already in [0, 1]. Transparency is composited.

    Transparent pixels take the colour they would have if the picture were
    painted on its natural background: the opaque pixels' own colour when they
    fill most of the canvas, otherwise the opposite of the strokes' colour, so
    that dark or light strokes drawn on a transparent pad both keep contrast.
    """
    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.dtype.kind != "f":
            return to_gray(Image.fromarray(array))
        if array.ndim != 2 or array.size == 0 or array.min() < 0 or array.max() > 1:
            raise ValueError(f"float images must be 2-D with values in [0, 1], got shape "
                             f"{array.shape}")
        return array.astype(np.float32)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _wide_gray(np.asarray(image))
    if image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or image.has_transparency_data:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255
        gray = np.asarray(rgba.convert("RGB").convert("L"), dtype=np.float32) / 255
        return _composite(gray, alpha)
    if image.mode != "L":
        image = image.convert("RGB").convert("L")
    return np.asarray(image, dtype=np.float32) / 255


def _wide_gray(values):
    """16/32-bit integer or float grey levels -> [0, 1], whatever the bit depth."""
    values = values.astype(np.float32)
    if values.size and values.max() <= 1.0 and values.min() >= 0.0:
        return values
    full_scale = 255.0 if values.max() <= 255 else 65535.0 if values.max() <= 65535 else values.max()
    return np.clip(values / full_scale, 0, 1)


def _composite(gray, alpha):
    opaque = alpha > 0.5
    if not opaque.any():
        return np.zeros_like(gray)
    painted = np.median(gray[opaque])
    if opaque.mean() > OPAQUE_SCENE_FRACTION:
        background = painted
    else:
        background = 0.0 if painted > 0.5 else 1.0
    return gray * alpha + background * (1 - alpha)
