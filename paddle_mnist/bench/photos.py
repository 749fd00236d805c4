"""Real MNIST digits rendered as the pictures users actually send.

The preprocessing benchmark needs a folder of realistic photos, and the
tests need the same pictures to check that a file comes back as the digit it
was made from. Each style takes a uint8 28x28 MNIST digit and a seed and
returns the encoded file bytes a user would upload:

- `paper_photo`: dark pen on tinted paper, large canvas, off-centre, slightly
  rotated, uneven light, sensor noise, a few dust specks, JPEG-compressed;
- `transparent_drawing`: RGBA PNG, opaque strokes (dark or light) on a fully
  transparent canvas, as drawing apps export;
- `drawing_pad`: light brush strokes on a dark canvas, as web sketch pads draw.

Deterministic: the same digit and seed give the same bytes.
"""

import io

import numpy as np
from PIL import Image


def pen_strokes(digit, side, angle, edge=0.3):
    """The digit enlarged to side x side (its 28x28 frame), rotated by `angle`
    degrees, with the crisp edges of ink rather than MNIST's blur; float in [0, 1].
    A higher `edge` (where the ink starts, in MNIST grey levels) draws a finer pen."""
    large = Image.fromarray(digit).resize((side, side), Image.BICUBIC)
    large = large.rotate(angle, resample=Image.BICUBIC)
    coverage = np.asarray(large, dtype=np.float32) / 255
    return np.clip((coverage - edge) / 0.3, 0, 1)


def _place(strokes, canvas_shape, rng):
    """Paste the strokes at a random spot of an empty canvas (off-centre)."""
    canvas = np.zeros(canvas_shape, np.float32)
    side = strokes.shape[0]
    top = rng.integers(0, canvas_shape[0] - side + 1)
    left = rng.integers(0, canvas_shape[1] - side + 1)
    canvas[top:top + side, left:left + side] = strokes
    return canvas


def _canvas(digit, rng, size_range=(400, 560), fill_range=(0.45, 0.8), max_angle=10,
            shape=None):
    height, width = (int(n) for n in rng.integers(*size_range, size=2))
    height, width = shape or (height, width)
    side = int(rng.uniform(*fill_range) * min(height, width))
    strokes = pen_strokes(digit, side, rng.uniform(-max_angle, max_angle),
                          edge=rng.uniform(0.2, 0.4))
    return _place(strokes, (height, width), rng)


def encode(image, fmt, **options):
    """A PIL image or uint8 array as the bytes of an image file in format `fmt`."""
    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def paper_photo(digit, seed, shape=None):
    """JPEG of dark ink on tinted, unevenly lit, noisy paper; `shape` (height,
    width) fixes the picture's size, which is otherwise drawn from the seed."""
    rng = np.random.default_rng([seed, 1])  # each style draws its own geometry
    return photograph(_canvas(digit, rng, shape=shape), rng)


def photograph(ink, rng):
    """JPEG of the ink (float [0, 1]) as a phone sees it on tinted, unevenly lit paper,
    with sensor noise and dust; the number renderer (`bench.numbers`) uses it too."""
    height, width = ink.shape
    for _ in range(rng.integers(2, 6)):
        y, x = rng.integers(0, height), rng.integers(0, width)
        ink[max(0, y - 2):y + 2, max(0, x - 2):x + 2] = rng.uniform(0.5, 1)
    paper = rng.uniform(190, 250, size=3)
    pen = rng.uniform(10, 70, size=3)
    rgb = paper * (1 - ink[..., None]) + pen * ink[..., None]
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width]
    ramp = (np.cos(angle) * ys / height + np.sin(angle) * xs / width)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    rgb *= (1 - rng.uniform(0.2, 0.45) * ramp)[..., None]
    rgb += rng.normal(0, rng.uniform(3, 8), size=rgb.shape)
    pixels = np.clip(rgb, 0, 255).astype(np.uint8)
    return encode(pixels, "JPEG", quality=int(rng.integers(55, 86)))


def transparent_drawing(digit, seed):
    """RGBA PNG: opaque strokes on a transparent canvas whose colour is black."""
    rng = np.random.default_rng([seed, 2])
    ink = _canvas(digit, rng)
    dark = rng.random() < 0.5
    colour = rng.uniform(0, 60, size=3) if dark else rng.uniform(200, 255, size=3)
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., :3] = np.where(ink[..., None] > 0, colour, 0).astype(np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return encode(rgba, "PNG")


def drawing_pad(digit, seed):
    """PNG of light brush strokes on a dark, slightly coloured canvas."""
    rng = np.random.default_rng([seed, 3])
    return pad_drawing(_canvas(digit, rng, size_range=(280, 420), fill_range=(0.6, 0.95),
                               max_angle=5), rng)


def pad_drawing(ink, rng):
    """PNG of the ink drawn as a web sketch pad draws: light brush on a dark canvas."""
    ground = rng.uniform(0, 60, size=3)
    brush = rng.uniform(200, 255, size=3)
    rgb = ground * (1 - ink[..., None]) + brush * ink[..., None]
    return encode(np.round(rgb).astype(np.uint8), "PNG")


STYLES = {"photo": paper_photo, "transparent": transparent_drawing, "pad": drawing_pad}
