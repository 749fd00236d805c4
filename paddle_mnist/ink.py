"""Where the ink is in a picture of handwriting: paper, polarity, ink mask, blobs.

Reading one digit (`preprocess.to_mnist`) and cutting a line of digits apart
both start here: a grey picture becomes an ink mask, float in [0, 1] of the
same size with the paper at exactly 0 and the strokes near 1.

How real pictures differ from MNIST's black field, and what each step does:

- The paper is not black, nor even uniform: white, grey (scanned forms at
  ~246), tinted, lit from one side, or the dark canvas of a screen. It is a
  smooth surface (`Paper`, a quadratic in the picture's coordinates) fitted
  robustly: first to the shortest half of the grey levels along the border,
  then to every pixel close to the fit, a few rounds, so neither a large
  thick digit nor one touching the border pulls it off the paper.
- Ink is darker than paper on paper and lighter on screens and pads: the
  side whose pixels stand out of the fit the most (`Paper.light`).
- Paper reflects light, so shade scales ink and paper alike: on light paper
  ink is measured as the share of the paper's brightness it takes away, on a
  dark canvas (which emits) as the brightness it adds.
- Strokes are as strong as the pen and the scan make them: the mask scales
  the strokes' own level to 1 and clears what is within the paper's noise
  (or EDGE_FLOOR of the ink level) to 0. When nothing stands out, there is
  no digit: `ImageError`, whatever the picture's size.
- Dust, dots and noise are blobs much smaller than the digit (`keep_digit`).
"""

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .errors import ImageError

COARSE_SIDE = 128    # paper and digit are found on a copy this big: fast, and enough
BORDER_BAND = 1 / 16  # share of the side where the paper is looked for first
FIT_SAMPLES = 2048   # at most this many pixels in each fit of the paper
STAT_SAMPLES = 1024  # paper and ink levels are measured on at most this many pixels
MIN_CONTRAST = 0.1   # ink at least this much stronger than paper, in [0, 1] units
NOISE_MARGIN = 8     # ... and this many noise sigmas, so a blank page is not a digit
EDGE_FLOOR = 0.15    # fraction of the ink level cleared as paper texture and shadow
SPECK_FRACTION = 0.1   # blobs with less ink than this share of the largest are dust ...
PIECE_FRACTION = 0.002  # ... unless they lie by the digit and have at least this share
NO_DIGIT = ("no digit found in the image (blank or too little contrast); photograph a dark "
            "digit on plain paper, filling much of the frame")


@dataclass(frozen=True)
class Paper:
    """The paper of a picture: its polarity and its smooth brightness.

    `coef` holds the quadratic surface over coordinates running from 0 to 1
    across the whole picture, so it can be evaluated on any part of it, at
    any resolution (`surface`).
    """

    light: bool         # dark ink on light paper (False: light ink on a dark canvas)
    coef: np.ndarray

    def surface(self, shape, region=None, full_shape=None):
        """The paper's brightness on a `shape` grid covering `region` (top, left,
        bottom, right in pixels of a `full_shape` picture; default all of it)."""
        if region is None:
            ys, xs = _centres(shape[0]), _centres(shape[1])
        else:
            (top, left, bottom, right), (height, width) = region, full_shape
            ys = (top + _centres(shape[0]) * (bottom - top)) / height
            xs = (left + _centres(shape[1]) * (right - left)) / width
        c = self.coef.astype(np.float32)
        ys, xs = ys - 0.5, xs - 0.5
        by_row = c[0] + c[1] * ys + c[3] * ys * ys
        by_col = c[2] * xs + c[5] * xs * xs
        return np.add.outer(by_row, by_col) + c[4] * np.multiply.outer(ys, xs)

    def strength(self, gray, region=None, full_shape=None):
        """Ink strength per pixel: 0 on paper, ~ the ink's contrast on strokes."""
        paper = self.surface(gray.shape, region, full_shape)
        if self.light:
            return (paper - gray) / np.maximum(paper, 0.05)
        return gray - paper


def _centres(n):
    return (np.arange(n, dtype=np.float32) + 0.5) / n


def _terms(ys, xs):
    ys, xs = ys - 0.5, xs - 0.5
    return np.stack([np.ones_like(ys), ys, xs, ys * ys, ys * xs, xs * xs], axis=-1)


def find_paper(gray, rounds=3):
    """The Paper of a grey picture (float [0, 1]), fitted on a COARSE_SIDE copy.

    Raises ImageError when no pixel stands out of the fitted paper.
    """
    small = shrink(gray, COARSE_SIDE)
    step, basis, on_border = _fit_grid(*small.shape)
    values = small[::step, ::step].ravel()
    paper = on_border & _shortest_half(values, on_border)
    for _ in range(rounds):
        coef = _least_squares(basis[paper], values[paper])
        residual = values - basis @ coef
        on_paper = residual[paper]
        spread = 1.4826 * np.median(np.abs(on_paper[::max(1, on_paper.size // 1024)]))
        paper = np.abs(residual) <= 2.5 * spread + 1 / 255
    threshold = max(NOISE_MARGIN * spread, MIN_CONTRAST / 2)
    darker = np.clip(-residual - threshold, 0, None).sum()
    lighter = np.clip(residual - threshold, 0, None).sum()
    if darker == lighter == 0:
        raise ImageError(NO_DIGIT)
    return Paper(light=bool(darker > lighter), coef=coef)


@functools.lru_cache(maxsize=16)
def _fit_grid(height, width):
    """(step, basis, on_border) of the pixels sampled for a height x width fit;
    pictures of one size share them."""
    step = max(1, int(np.sqrt(height * width / FIT_SAMPLES)))
    rows, cols = np.mgrid[0:height:step, 0:width:step]
    basis = _terms((rows.ravel() + 0.5) / height, (cols.ravel() + 0.5) / width)
    band = max(1, round(BORDER_BAND * min(height, width)))
    on_border = ((rows < band) | (rows >= height - band)
                 | (cols < band) | (cols >= width - band)).ravel()
    for array in (basis, on_border):
        array.flags.writeable = False
    return step, basis, on_border


def _least_squares(basis, values):
    """Solve the 6x6 normal equations (LAPACK's SVD-based lstsq costs ~100x more
    for a tall, well-conditioned system like this one)."""
    gram = basis.T @ basis + 1e-6 * np.eye(basis.shape[1])
    return np.linalg.solve(gram, basis.T @ values)


def _shortest_half(values, among):
    """The pixels whose level lies in the narrowest range holding half of `among`:
    the paper's level even when ink covers almost half of the border."""
    levels = np.sort(values[among])
    half = max(1, len(levels) // 2)
    if len(levels) <= half:
        return np.ones(values.shape, bool)
    start = int(np.argmin(levels[half:] - levels[:-half]))
    return (values >= levels[start]) & (values <= levels[start + half])


def ink_mask(gray, paper=None, region=None, full_shape=None):
    """Grey picture (float [0, 1]) -> ink float [0, 1] of the same size, paper at 0.

    `paper` (default: `find_paper(gray)`) says which side is ink and where the
    paper is; `region`/`full_shape` place `gray` inside the picture `paper`
    was found on (a window cut out of it, maybe resized). Raises ImageError
    when nothing stands out of the paper and its noise.
    """
    if paper is None:
        paper = find_paper(gray)
    ink = paper.strength(gray, region, full_shape or gray.shape)
    step = max(1, int(np.sqrt(ink.size / STAT_SAMPLES)))
    sample = ink[::step, ::step]
    threshold = otsu_threshold(sample)
    background = sample[sample <= threshold]
    level_of_paper = np.median(background) if background.size else 0.0
    noise = 1.4826 * np.median(np.abs(background - level_of_paper)) if background.size else 0.0
    strokes = sample[sample > threshold]
    level = np.percentile(strokes, 90) - level_of_paper if strokes.size else 0.0
    if level < max(MIN_CONTRAST, NOISE_MARGIN * noise):
        raise ImageError(NO_DIGIT)
    floor = level_of_paper + max(4 * noise, EDGE_FLOOR * level)
    return np.clip((ink - floor) / (level_of_paper + level - floor), 0, 1)


def otsu_threshold(values, bins=256):
    """The level that best splits `values` into two classes (Otsu, 1979)."""
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return high
    width = (high - low) / bins
    index = np.minimum(((values - low) / width).astype(np.intp), bins - 1)
    counts = np.bincount(index.ravel(), minlength=bins)
    centres = low + (np.arange(bins) + 0.5) * width
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = mass_low / weight_low
        mean_high = (mass_low[-1] - mass_low) / weight_high
        between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return centres[np.nanargmax(between)] if np.isfinite(between).any() else high


def keep_digit(ink):
    """Zero the blobs that are not the digit: the digit is every blob with a fair
    share of the largest one's ink, plus smaller pieces lying by it (a pen
    lifted mid-stroke); dust, dots and noise go. Blobs are 8-connected."""
    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3), bool))
    if count == 0:
        raise ImageError(NO_DIGIT)
    mass = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=count + 1)
    mass[0] = 0
    major = mass >= SPECK_FRACTION * mass.max()
    selected = major[labels]
    rows, cols = np.flatnonzero(selected.any(axis=1)), np.flatnonzero(selected.any(axis=0))
    margin = 1 + (rows[-1] - rows[0] + cols[-1] - cols[0]) // 16
    outside = np.ones(labels.shape, bool)
    outside[max(0, rows[0] - margin):rows[-1] + margin + 1,
            max(0, cols[0] - margin):cols[-1] + margin + 1] = False
    near = np.ones(count + 1, bool)
    near[labels[outside]] = False  # a piece lies wholly within the digit's box and margin
    keep = major | (near & (mass >= PIECE_FRACTION * mass.max()))
    keep[0] = False
    return np.where(keep[labels], ink, 0).astype(np.float32)


def shrink(gray, side):
    """Average whole blocks of pixels so the longer side is at most `side` (and
    more than half of it): Pillow's block reduction, twice as fast as a resize."""
    factor = -(-max(gray.shape) // side)
    if factor <= 1:
        return gray
    return np.asarray(Image.fromarray(np.asarray(gray, np.float32), "F").reduce(factor))


def rescale(array, scale, resample):
    """Resize a float image by `scale` (each side at least 1 pixel) with PIL's filter."""
    size = [max(1, round(n * scale)) for n in reversed(array.shape)]
    return np.asarray(Image.fromarray(array.astype(np.float32), "F").resize(size, resample))
