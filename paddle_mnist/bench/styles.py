"""Digits in a handwriting style MNIST lacks, to show the service learning from corrections.

MNIST was written by American Census staff and students: plain 1s, open 7s.
Across Europe a 1 starts with a long up-stroke (a "flag"), a 7 is crossed
through its stem; many people write with a felt marker, and some slant their
writing backwards. `styled_canvas` takes a real MNIST test digit and writes it
that way: the strokes widened like a marker, a flag added to every 1, a bar
across every 7, the whole digit leaning left, on a white 280x280 canvas as the
web page sends it. The base model reads many of those
wrong; a model fine-tuned on corrected ones should not. Deterministic: the
same digit, label and seed give the same picture.
"""

import io

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

CANVAS = 280
MARKER_RADIUS = 9    # pixels of the 280 canvas: a stroke ~2.5x MNIST's
FLAG_WIDTH = 16
BACKWARD_SLANT = 0.6  # columns moved per row: the top leans ~31 degrees to the left


def _ink(digit, side):
    large = Image.fromarray(digit).resize((side, side), Image.BICUBIC)
    return np.asarray(large, dtype=np.float32) > 96


def _stem(mask):
    """(top row, bottom row, column of the middle) of the digit's ink."""
    rows = np.nonzero(mask.any(axis=1))[0]
    top, bottom = int(rows[0]), int(rows[-1])
    cols = np.nonzero(mask[top:bottom + 1].any(axis=0))[0]
    return top, bottom, int((cols[0] + cols[-1]) / 2)


def styled_mask(digit, label, rng):
    """Boolean ink of `digit` (uint8 28x28) in the marker style, on a CANVAS square."""
    mask = _ink(digit, CANVAS)
    radius = MARKER_RADIUS + int(rng.integers(-2, 3))
    disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius
    mask = ndimage.binary_dilation(mask, structure=disk)
    picture = Image.fromarray(mask)
    draw = ImageDraw.Draw(picture)
    top, bottom, middle = _stem(mask)
    height = bottom - top
    if label == 1:   # the up-stroke a European 1 starts with
        reach = int(height * rng.uniform(0.35, 0.5))
        draw.line([(middle, top + FLAG_WIDTH // 2),
                   (middle - reach, top + int(reach * rng.uniform(0.6, 0.9)))],
                  fill=True, width=FLAG_WIDTH)
    elif label == 7:  # the bar across a European 7's stem
        row = top + int(height * rng.uniform(0.45, 0.6))
        columns = np.nonzero(np.asarray(picture)[row])[0]
        centre = int(columns.mean()) if columns.size else middle
        half = int(height * rng.uniform(0.22, 0.3))
        draw.line([(centre - half, row), (centre + half, row)], fill=True, width=FLAG_WIDTH)
    # output (row, col) takes input (row, col + slant * (row - middle)): the top leans left
    slant = [[1, 0], [BACKWARD_SLANT, 1]]
    return ndimage.affine_transform(np.asarray(picture, np.float32), slant,
                                    offset=[0, -BACKWARD_SLANT * CANVAS / 2], order=0) > 0.5


def styled_canvas(digit, label, seed):
    """PNG bytes: the digit in the marker style, dark ink on a white canvas."""
    mask = styled_mask(digit, int(label), np.random.default_rng(seed))
    pixels = np.where(mask, 20, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()
