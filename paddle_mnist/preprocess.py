"""Turn a user's picture of a digit into a 28x28 array made the way MNIST was.

A network trained on MNIST knows only MNIST's conventions: a light digit on a
black field, pen strokes of a typical width, the digit's bounding box scaled
(aspect kept, anti-aliased) to fit 20x20 and pasted into 28x28 so that its
centre of mass sits at the centre. Real scans and photos break every one of
them, and each step below restores one:

1. `undo_pixel_upscaling`: a small scan shown enlarged (USPS' 16x16 at 8x,
   a 28x28 crop at 4x) is made of hard-edged blocks; it is read at its own
   resolution, so the blocks' staircase edges are not taken for the pen's.
2. `find_paper` (in `ink`): which side is ink (dark on light paper, light on
   a screen or a drawing pad) and where the paper is, as a smooth surface
   (uneven light, grey or tinted paper). The paper is first looked for along
   the image's border, since a digit cropped tightly fills the middle and
   may cover more of the picture than the paper does.
3. `ink_mask` (in `ink`): ink strength relative to the paper, with the
   paper at exactly 0 and the strokes near 1, soft edges kept. "No digit
   found" means no ink stands out of the paper's noise, nothing else.
4. `keep_digit` (in `ink`): the blobs that are the digit; dust and specks go.
   The digit is located on a small copy of the picture and then cut out of
   the full-resolution one, so a 640x480 photo costs a few milliseconds.
5. `normalise_stroke`: pens and scanners give lines from hairline to bold;
   MNIST's stroke widths (measured in the 20x20 box) lie between THIN_STROKE
   and THICK_STROKE for 90% of its digits, so a digit outside that range is
   dilated or eroded to MNIST's median width.
6. `fit_box` and `centre_by_mass`: MNIST's geometry. A digit that is wide,
   squat or tall keeps its aspect ratio; one that touches the border of a
   tight crop gets MNIST's margin back.

Pure numpy, scipy.ndimage and Pillow: the CLI, the evaluation, the web demo
and the tests use it without loading a model.
"""

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from .errors import ImageError
from .images import load_image, source_name, to_gray
from .ink import COARSE_SIDE, find_paper, ink_mask, keep_digit, rescale, shrink

__all__ = ["load_image", "to_mnist", "ink_to_mnist", "prepare_file", "ink_mask", "find_paper"]

BOX = 20            # MNIST's digits fit a 20x20 box ...
FIELD = 28          # ... inside a 28x28 field,
MASS_CENTRE = 14.0  # with their centre of mass here (mean 13.99, 14.01 on the test set)
DECODE_SIDE = 1024  # a JPEG's longer side is decoded to no less than this (see load_image)
FINE_SIDE = 128     # the digit's window is worked on at most this big (4x BOX is enough)
WINDOW_MARGIN = 0.1  # paper kept around the coarse box, as a share of its size
OVERSAMPLE = 4      # strokes are measured and reshaped at this multiple of the 20x20 box
# Stroke width in pixels of the 20x20 box over 5,000 MNIST training digits
# (tests/test_preprocess.py recomputes them): 5th percentile, median, 95th.
THIN_STROKE, STROKE_WIDTH, THICK_STROKE = 1.64, 2.52, 3.84
UPSCALE_TOLERANCE = 1.5 / 255  # blocks of an enlarged image are equal to a grey level


def to_mnist(image):
    """PIL image or array (uint8 HxW[x3|4], or float HxW in [0, 1]) -> uint8 (28, 28).

    Light digit on black, like `paddle_mnist.data.idx` arrays. Raises ImageError
    when there is no digit: blank or uniform pictures, including 1x1 images.
    """
    gray = undo_pixel_upscaling(to_gray(image))
    coarse = shrink(gray, COARSE_SIDE)
    paper = find_paper(coarse)
    window, region = digit_window(gray, coarse, paper)
    return ink_to_mnist(keep_digit(ink_mask(window, paper, region, gray.shape)))


def ink_to_mnist(digit):
    """The ink of one digit (float, paper at 0) -> uint8 (28, 28), MNIST's geometry:
    the last steps of `to_mnist`, shared with the number reader (`numbers`) so a
    digit cut out of a number is made exactly as a digit alone is."""
    digit = fit_box(crop_to_ink(normalise_stroke(crop_to_ink(digit))), BOX)
    return np.round(centre_by_mass(digit, FIELD) * 255).astype(np.uint8)


def prepare_file(source, *, name=None):
    """Image file (path or bytes) -> uint8 (28, 28); ImageError names the file."""
    image = load_image(source, name=name, gray_side=DECODE_SIDE)
    try:
        return to_mnist(image)
    except ImageError as err:
        raise ImageError(f"{source_name(source, name)}: {err}") from None


def undo_pixel_upscaling(gray):
    """A picture made of k x k blocks of equal pixels (k >= 2) at 1/k of its size.

    Nearest-neighbour enlargement adds no information, only staircase edges
    that would otherwise be smoothed into the strokes. Rows and columns of
    such a picture change only at multiples of k, so k is the greatest
    common divisor of where they change (and of the picture's sides).
    """
    height, width = gray.shape
    if (height < 4 or width < 4 or np.abs(gray[0] - gray[1]).max() > UPSCALE_TOLERANCE
            or np.abs(gray[:, 0] - gray[:, 1]).max() > UPSCALE_TOLERANCE):
        return gray  # rows 0 and 1 (columns 0 and 1) differ: not enlarged
    rows = np.flatnonzero(np.abs(np.diff(gray, axis=0)).max(axis=1) > UPSCALE_TOLERANCE) + 1
    cols = np.flatnonzero(np.abs(np.diff(gray, axis=1)).max(axis=0) > UPSCALE_TOLERANCE) + 1
    if len(rows) < 2 or len(cols) < 2:
        return gray  # a blank or nearly blank picture: nothing to undo
    k = math.gcd(height, width, *rows.tolist(), *cols.tolist())
    return gray[::k, ::k] if k >= 2 else gray


def digit_window(gray, coarse, paper):
    """(window, region): the digit's part of `gray` with a margin of paper, shrunk
    so its longer side is at most FINE_SIDE; `region` is (top, left, bottom,
    right) of it in `gray`, for evaluating the paper surface there.

    The digit is found on `coarse`, a small copy of `gray`: blobs of ink,
    specks dropped.
    """
    mask = keep_digit(ink_mask(coarse, paper))
    rows, cols = np.nonzero(mask)
    scale_y, scale_x = gray.shape[0] / coarse.shape[0], gray.shape[1] / coarse.shape[1]
    top, bottom = rows.min() * scale_y, (rows.max() + 1) * scale_y
    left, right = cols.min() * scale_x, (cols.max() + 1) * scale_x
    margin = WINDOW_MARGIN * max(bottom - top, right - left) + max(scale_y, scale_x)
    region = (max(0, math.floor(top - margin)), max(0, math.floor(left - margin)),
              min(gray.shape[0], math.ceil(bottom + margin)),
              min(gray.shape[1], math.ceil(right + margin)))
    window = gray[region[0]:region[2], region[1]:region[3]]
    scale = FINE_SIDE / max(window.shape)
    return (window if scale >= 1 else rescale(window, scale, Image.BOX)), region


def crop_to_ink(ink):
    """The tight bounding box of the non-zero pixels."""
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def stroke_width(patch):
    """Mean stroke width in pixels: twice the area over the perimeter, the
    perimeter counted on the pixel grid and corrected for slanted edges (4/pi)."""
    mask = np.pad(patch > 0.5, 1)
    edges = (mask[1:] != mask[:-1]).sum() + (mask[:, 1:] != mask[:, :-1]).sum()
    return 2 * mask.sum() / (edges * np.pi / 4) if edges else 0.0


def at_stroke_scale(patch):
    """The cropped digit resized so its longer side is OVERSAMPLE x BOX pixels."""
    return rescale(patch, OVERSAMPLE * BOX / max(patch.shape), Image.BILINEAR)


def normalise_stroke(patch):
    """Bring a stroke width outside MNIST's usual range to its median (widths
    in pixels of the BOX the digit will fill); returned at OVERSAMPLE x BOX."""
    work = at_stroke_scale(patch)
    width = stroke_width(work) / OVERSAMPLE
    if THIN_STROKE <= width <= THICK_STROKE:
        return work
    radius = abs(STROKE_WIDTH - width) / 2 * OVERSAMPLE
    reach = int(radius)
    if reach < 1:
        return work
    ys, xs = np.mgrid[-reach:reach + 1, -reach:reach + 1]
    disk = ys * ys + xs * xs <= radius * radius
    if width < THIN_STROKE:
        return ndimage.grey_dilation(np.pad(work, reach), footprint=disk)
    thinned = ndimage.grey_erosion(work, footprint=disk)
    return thinned if thinned.max() > 0.5 else work  # never erase the digit


def fit_box(patch, box):
    """Scale so the longer side is `box` pixels, aspect kept, anti-aliased, peak 1."""
    fitted = np.clip(rescale(patch, box / max(patch.shape), Image.LANCZOS), 0, None)
    return np.clip(fitted / fitted.max(), 0, 1) if fitted.max() > 0 else fitted


def centre_by_mass(patch, field):
    """Paste into a field x field square with the centre of mass at MASS_CENTRE."""
    height, width = patch.shape
    centre_y, centre_x = ndimage.center_of_mass(patch)
    top = int(np.clip(round(MASS_CENTRE - centre_y), 0, field - height))
    left = int(np.clip(round(MASS_CENTRE - centre_x), 0, field - width))
    out = np.zeros((field, field), np.float32)
    out[top:top + height, left:left + width] = patch
    return out
