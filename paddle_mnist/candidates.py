"""The ways a line of writing may be read: which blobs make a digit, where to cut.

`segment` finds a line's atoms (blobs as tall as a digit, their pieces
joined) in reading order; this module lists every reading worth trying
(`Span`s) and makes each candidate digit an MNIST-style 28x28 with the last
steps of the single-digit preprocessing (`preprocess.ink_to_mnist`):

- each atom alone;
- runs of up to MAX_RUN atoms that overlap along the slant, as one digit (a 4
  or a 7 written in two strokes; or two digits written tightly, read apart);
- an atom at least SPLIT_FROM typical digit widths wide cut into 2..MAX_SPLIT
  pieces at the lowest points of its column profile (along the slant) near
  the even positions: digits that touch. A cut whose pieces are not all
  digit-tall (a 5's bar, a 2's tail) is not tried.

`numbers` reads them all in one batch and keeps the most confident reading.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .preprocess import ink_to_mnist

MINOR_HEIGHT = 0.45    # blobs lower than this share of the typical height are pieces
MAX_RUN = 3            # at most this many overlapping atoms considered as one digit
DIGIT_ASPECT = 0.9     # a digit is at most this wide for its height, along the slant
ONE_DIGIT_UP_TO = 2.2  # a span at most this many typical digit widths wide may be one digit
SPLIT_FROM = 1.45      # a span this many typical digit widths wide may be touching digits
MAX_SPLIT = 6          # ... into at most this many
MIN_PIECE = 0.15       # a cut never leaves a piece narrower than this share of the height


@dataclass
class Digit:
    """One possible digit: its 28x28 as the model sees it, its box (x, y, w, h)
    in the original picture's pixels and its width along the slant in typical
    digit widths of its line."""

    pixels: np.ndarray
    box: tuple
    width: float = 1.0


@dataclass
class Span:
    """Atoms `start`..`end` (inclusive) of a line read as one or more digits:
    each of `options` is a list of Digits, left to right."""

    start: int
    end: int
    options: list = field(default_factory=list)


@dataclass
class Line:
    """One line of writing: its atoms, left to right, and the spans over them."""

    atoms: int           # how many atoms the line has
    spans: list          # every Span worth reading


def spans_of(groups, low, high, top, bottom, cut):
    """Every Span worth reading: each atom alone, runs of overlapping atoms, and
    splits of wide spans into touching digits."""
    widths = np.array([high[g[0]] - low[g[0]] for g in groups])
    heights = np.array([bottom[g].max() - top[g].min() for g in groups])
    line_height = float(np.median(heights)) if len(groups) else 0.0
    wide_enough = widths >= 0.35 * heights
    digit_width = min(float(np.median(widths[wide_enough])) if wide_enough.any()
                      else line_height, DIGIT_ASPECT * line_height)
    digit_width = cut.digit_width = max(digit_width, 1.0)
    spans = []
    for start in range(len(groups)):
        for end in range(start, min(len(groups), start + MAX_RUN)):
            # atoms that overlap along the slant: one digit in two strokes, or two
            # digits written tightly? Both are read.
            if end > start and high[groups[end - 1][0]] < low[groups[end][0]]:
                break
            ids = [i for g in groups[start:end + 1] for i in g]
            span = Span(start, end)
            lo, hi = min(low[i] for i in ids), max(high[i] for i in ids)
            ratio = (hi - lo) / digit_width
            if ratio < ONE_DIGIT_UP_TO:
                span.options.append([cut.digit(ids, -np.inf, np.inf)])
            if ratio >= SPLIT_FROM and end == start:
                span.options += cut.splits(ids, lo, hi, ratio, line_height)
            if not span.options:
                span.options.append([cut.digit(ids, -np.inf, np.inf)])
            spans.append(span)
    return spans


class Cutter:
    """Makes Digits from blobs of one line, whole or between two positions along
    the slant, and finds where touching digits can be cut. Each works on the
    box of its blobs only: a number's digits are a small part of the picture."""

    def __init__(self, blobs, slant, centre, scale):
        self.labels, self.ink = blobs.labels, blobs.ink
        self.top, self.left, self.bottom, self.right = (blobs.top, blobs.left, blobs.bottom,
                                                        blobs.right)
        self.slant, self.centre = slant, centre
        self.scale = scale  # (x scale, y scale, x offset, y offset) to the picture's pixels
        self.digit_width = 1.0  # the line's typical digit width, set by spans_of

    def region(self, ids):
        """(top, left, the blobs' pixels, x along the slant) over the blobs' box."""
        top, bottom = min(self.top[i] for i in ids), max(self.bottom[i] for i in ids)
        left, right = min(self.left[i] for i in ids), max(self.right[i] for i in ids)
        mask = np.isin(self.labels[top:bottom, left:right], np.asarray(ids) + 1)
        along = np.subtract.outer(-self.slant * (np.arange(top, bottom) - self.centre),
                                  -np.arange(left, right))
        return top, left, mask, along

    def digit(self, ids, low, high):
        top, left, mask, along = self.region(ids)
        if np.isfinite(low) or np.isfinite(high):
            mask &= (along >= low) & (along < high)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        inside = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        box_ink = self.ink[top:top + mask.shape[0], left:left + mask.shape[1]]
        patch = np.where(mask[inside], box_ink[inside], 0).astype(np.float32)
        sx, sy, x0, y0 = self.scale
        kept = along[mask]
        width = (kept.max() - kept.min() + 1) / self.digit_width
        box = (round((left + cols[0] + x0) * sx), round((top + rows[0] + y0) * sy),
               round(patch.shape[1] * sx), round(patch.shape[0] * sy))
        return Digit(ink_to_mnist(patch), box, float(width))

    def splits(self, ids, low, high, ratio, line_height):
        """Options cutting the span into k = 2.. pieces at its profile's valleys."""
        top, left, mask, along = self.region(ids)
        box_ink = self.ink[top:top + mask.shape[0], left:left + mask.shape[1]]
        start = math.floor(low)
        profile = np.bincount((along[mask] - start).astype(int),
                              box_ink[mask], minlength=int(high - start) + 1)
        profile = ndimage.uniform_filter1d(profile, 3)
        options, min_piece = [], max(1, int(MIN_PIECE * line_height))
        for k in range(2, min(MAX_SPLIT, round(ratio) + 1) + 1):
            width = (high - low) / k
            cuts, reach = [], max(1, int(0.3 * width))
            for j in range(1, k):
                centre = int(low + j * width - start)
                window = profile[max(0, centre - reach):centre + reach + 1]
                cuts.append(start + max(0, centre - reach) + int(np.argmin(window)))
            edges = [low, *cuts, high]
            if min(b - a for a, b in zip(edges, edges[1:])) < min_piece:
                continue
            pieces = [self.digit(ids, a, b) for a, b in zip([-np.inf, *cuts], [*cuts, np.inf])]
            # a digit is tall: a cut that leaves a tail or a bar alone is not a split
            if min(piece.box[3] for piece in pieces) >= MINOR_HEIGHT * line_height * self.scale[1]:
                options.append(pieces)
        return options
