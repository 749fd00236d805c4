"""Cut a picture of a handwritten number into lines and digits, with the options left open.

A network trained on MNIST reads one centred digit, so a photo of "4071"
must first be cut into four pictures of one digit each. The cut starts from
the same ink mask as a single digit (`ink.find_paper`, `ink.ink_mask`) and
each cut-out digit is made into 28x28 by the same last steps
(`preprocess.ink_to_mnist`), so a digit read inside a number is exactly the
digit read alone. Steps:

1. The picture is worked on at most WORK_PIXELS big (block-averaged while
   8-bit), and only in the region where a coarse ink mask shows writing
   (`writing_region`, as `preprocess.digit_window` does for one digit).
2. `remove_rules`: horizontal runs of ink much longer than any digit stroke
   are ruled lines or underlines; their pixels go, except where a digit's
   stroke crosses them (ink right above and below the line).
3. Blobs (8-connected components). Blobs touching the picture's edge and
   spanning most of it are paper edges or shadows and go.
4. Lines of writing: blobs at least MINOR_HEIGHT of the typical blob height
   ("atoms") are grouped by vertical overlap, top to bottom; bands closer
   than LINE_GAP of their height are one line (halves of broken digits).
5. Slant: each line's writing is measured (the median of its atoms' ink
   moments) and all horizontal positions are taken along the slant, so
   slanted digits that overlap in x are apart along it.
6. Smaller blobs are pieces: a 5's detached bar, a stroke broken by a faint
   pen, the dots of a dotted line. Each joins the atom nearest it (within
   PIECE_REACH of the digit height); runs of pieces as tall as a digit are
   one; far or light ones are specks. Groups stacked one above the other
   along the slant are one digit: two digits of a line are side by side.
7. What is still open (one digit or two? touching digits?) becomes the
   options of `candidates`, and `numbers` reads them all: the network, not
   a threshold, says which reading is right.
"""

import math

import numpy as np
from PIL import Image
from scipy import ndimage

from .candidates import MINOR_HEIGHT, Cutter, Line, spans_of
from .errors import ImageError
from .images import to_gray
from .ink import COARSE_SIDE, find_paper, ink_mask, shrink
from .preprocess import stroke_width, undo_pixel_upscaling

WORK_PIXELS = 250_000  # the picture is segmented at most this big
RULE_STROKES = 15      # a horizontal run this many stroke widths long is a ruled line ...
RULE_SHARE = 1 / 3     # ... if it also spans this share of the picture's width
EDGE_SPAN = 0.8        # a blob on the border spanning this share of a side is the paper's edge
LINE_GAP = 0.3        # lines closer than this share of their height are one line
PIECE_REACH = 0.35     # pieces join an atom within this share of the digits' height
PIECE_MASS = 0.02      # ... if they have this share of an atom's ink (lighter ones are dust)
MAX_SLANT = 0.6        # |dx/dy| of writing taken into account
STACKED = 0.5          # groups above one another, overlapping by this share along, are one
NO_DIGITS = ("no digits found in the image (only specks or lines); photograph dark "
             "writing on plain paper, filling much of the frame")


def segment(image):
    """Picture (PIL image or array) -> [Line], top to bottom; ImageError without digits."""
    work, (height, width) = work_copy(image)
    coarse = shrink(work, COARSE_SIDE)
    paper = find_paper(coarse)
    region = writing_region(coarse, paper, work.shape)
    top, left, bottom, right = region
    ink = remove_rules(ink_mask(work[top:bottom, left:right], paper, region, work.shape))
    scale = (width / work.shape[1], height / work.shape[0], left, top)
    blobs = Blobs(ink)
    if not blobs.count:
        raise ImageError(NO_DIGITS)
    lines = [blobs.line(atoms, pieces, scale) for atoms, pieces in blobs.lines()]
    if not lines:
        raise ImageError(NO_DIGITS)
    return lines


def writing_region(coarse, paper, shape):
    """(top, left, bottom, right) of `shape` holding all the ink seen on `coarse`,
    with a margin: the rest of a photo is paper, and the ink mask, blobs and
    the rest cost in proportion to the pixels they look at (as for one digit,
    `preprocess.digit_window`)."""
    rows, cols = np.nonzero(ink_mask(coarse, paper))
    sy, sx = shape[0] / coarse.shape[0], shape[1] / coarse.shape[1]
    margin = 0.1 * max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) + 2
    return (max(0, math.floor((rows.min() - margin) * sy)),
            max(0, math.floor((cols.min() - margin) * sx)),
            min(shape[0], math.ceil((rows.max() + 1 + margin) * sy)),
            min(shape[1], math.ceil((cols.max() + 1 + margin) * sx)))


def work_copy(image):
    """(grey float copy of at most WORK_PIXELS, (height, width) of the picture).

    A large grey or colour picture is block-averaged while it is still 8-bit
    (several times faster than in floats); a small one may be a scan shown
    enlarged, which `undo_pixel_upscaling` brings back to its own pixels.
    """
    if isinstance(image, Image.Image) and image.mode in ("L", "RGB") and \
            image.width * image.height > WORK_PIXELS:
        factor = math.ceil(math.sqrt(image.width * image.height / WORK_PIXELS))
        return to_gray(image.convert("L").reduce(factor)), (image.height, image.width)
    gray = to_gray(image)
    shape = gray.shape
    side = max(shape) * min(1.0, math.sqrt(WORK_PIXELS / gray.size))
    return shrink(undo_pixel_upscaling(gray), max(1, int(side))), shape


def remove_rules(ink):
    """The ink without ruled lines and underlines (see the module docstring)."""
    mask = ink > 0
    height, width = mask.shape
    stroke = max(1.0, stroke_width(ink))
    length = max(RULE_SHARE * width, RULE_STROKES * stroke)
    if mask.sum(axis=1).max() < length:
        return ink  # no row holds enough ink for a rule: most pictures
    padded = np.zeros((height, width + 2), np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    rows, starts = np.nonzero(change == 1)
    _, ends = np.nonzero(change == -1)
    long = ends - starts >= length
    if not long.any():
        return ink
    rule = np.zeros_like(mask)
    for row, start, end in zip(rows[long], starts[long], ends[long]):
        rule[row, start:end] = True
    other = mask & ~rule
    reach = int(2 * stroke) + 2
    above, below = np.zeros_like(mask), np.zeros_like(mask)
    for k in range(1, reach + 1):
        above[k:] |= other[:-k]
        below[:-k] |= other[k:]
    return np.where(rule & ~(above & below), 0, ink).astype(np.float32)


class Blobs:
    """The ink's 8-connected blobs, their boxes, masses and slants."""

    def __init__(self, ink):
        self.ink = ink
        labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3), bool))
        self.labels = labels
        self.ys, self.xs = np.nonzero(labels)
        self.label = labels[self.ys, self.xs] - 1
        self.values = ink[self.ys, self.xs]
        boxes = ndimage.find_objects(labels)
        self.top = np.array([b[0].start for b in boxes], int)
        self.bottom = np.array([b[0].stop for b in boxes], int)
        self.left = np.array([b[1].start for b in boxes], int)
        self.right = np.array([b[1].stop for b in boxes], int)
        self.height = self.bottom - self.top
        self.mass = self._sum(self.values)
        self._drop_edges(*ink.shape)

    def _sum(self, weights):
        return np.bincount(self.label, weights, minlength=len(self.top))

    def _drop_edges(self, height, width):
        edge = ((self.top == 0) | (self.left == 0) | (self.bottom == height)
                | (self.right == width))
        spans = (self.height >= EDGE_SPAN * height) | (self.right - self.left >= EDGE_SPAN * width)
        self.alive = ~(edge & spans) & (self.mass > 0)
        self.count = int(self.alive.sum())

    def slants(self):
        """dx/dy of each blob's ink (its second moments): the writing's slant."""
        mass = np.maximum(self.mass, 1e-9)
        mean_x = self._sum(self.values * self.xs) / mass
        mean_y = self._sum(self.values * self.ys) / mass
        cov = self._sum(self.values * self.xs * self.ys) / mass - mean_x * mean_y
        var = self._sum(self.values * self.ys * self.ys) / mass - mean_y * mean_y
        return cov / np.maximum(var, 1e-9)

    def lines(self):
        """(atoms, pieces): blob indices per line of writing, top to bottom."""
        alive = np.flatnonzero(self.alive)
        typical = np.median(self.height[alive[self.mass[alive] >= 0.15 * self.mass[alive].max()]])
        atoms = [i for i in alive[np.argsort(self.top[alive])]
                 if self.height[i] >= MINOR_HEIGHT * typical]
        bands = []  # [top, bottom, members]
        for i in atoms:
            for band in bands:
                overlap = min(band[1], self.bottom[i]) - max(band[0], self.top[i])
                if overlap >= 0.5 * min(self.height[i], band[1] - band[0]):
                    band[0], band[1] = min(band[0], self.top[i]), max(band[1], self.bottom[i])
                    band[2].append(i)
                    break
            else:
                bands.append([self.top[i], self.bottom[i], [i], []])
        bands.sort(key=lambda band: band[0])
        merged = bands[:1]
        for band in bands[1:]:  # halves of strokes a faint pen broke are one line
            last = merged[-1]
            if band[0] - last[1] < LINE_GAP * min(band[1] - band[0], last[1] - last[0]):
                last[0], last[1] = min(last[0], band[0]), max(last[1], band[1])
                last[2] += band[2]
            else:
                merged.append(band)
        bands = merged
        atom_set = set(atoms)
        for i in alive:
            if i in atom_set:
                continue
            centre = (self.top[i] + self.bottom[i]) / 2
            reach = [max(band[0] - centre, centre - band[1], 0) / (band[1] - band[0])
                     for band in bands]
            best = int(np.argmin(reach)) if reach else -1
            if best >= 0 and reach[best] <= PIECE_REACH:
                bands[best][3].append(i)
        return [(band[2], band[3]) for band in bands]

    def line(self, atoms, pieces, scale):
        """The Line of these blobs: atoms along the slant, pieces joined, Spans."""
        members = np.array(atoms + pieces)
        slant = float(np.clip(np.median(self.slants()[atoms]), -MAX_SLANT, MAX_SLANT))
        centre = (self.bottom[members].max() + self.top[members].min()) / 2
        pick = np.isin(self.label, members)
        along = self.xs[pick] - slant * (self.ys[pick] - centre)  # x along the slant
        label = self.label[pick]
        low = np.full(len(self.top), np.inf)
        high = np.full(len(self.top), -np.inf)
        np.minimum.at(low, label, along)
        np.maximum.at(high, label, along + 1)
        typical = float(np.median(self.height[atoms]))
        heavy = PIECE_MASS * float(np.median(self.mass[atoms]))
        pieces = [i for i in pieces if self.mass[i] >= heavy and
                  high[i] - low[i] < 1.2 * typical]  # dust and stray dashes go
        groups = [[i] for i in atoms]
        for cluster in self._clusters(pieces, low, high, typical):
            top = min(self.top[i] for i in cluster)
            if max(self.bottom[i] for i in cluster) - top >= MINOR_HEIGHT * typical:
                groups.append(cluster)  # a digit drawn in dots or broken strokes
                continue
            for i in cluster:
                gaps = [max(low[g[0]] - high[i], low[i] - high[g[0]], 0) for g in groups]
                best = int(np.argmin(gaps))
                if gaps[best] <= PIECE_REACH * typical:
                    groups[best].append(i)
        groups = self._stack(groups, low, high)
        groups.sort(key=lambda g: (low[g[0]] + high[g[0]]) / 2)
        cut = Cutter(self, slant, centre, scale)
        return Line(len(groups), spans_of(groups, low, high, self.top, self.bottom, cut))

    def _stack(self, groups, low, high):
        """Groups one above the other along the slant are one digit (two digits of a
        line are side by side): a stroke broken across, a bar apart from its body.
        A group's extent is kept on its first member, for the spans."""
        def extent(g):
            return (min(low[i] for i in g), max(high[i] for i in g),
                    min(self.top[i] for i in g), max(self.bottom[i] for i in g))
        merged = True
        while merged:
            merged = False
            for a in range(len(groups)):
                for b in range(a + 1, len(groups)):
                    (la, ha, ta, ba), (lb, hb, tb, bb) = extent(groups[a]), extent(groups[b])
                    across = min(ha, hb) - max(la, lb)
                    upright = min(ba, bb) - max(ta, tb)
                    if across >= STACKED * min(ha - la, hb - lb) and \
                            upright <= 0.1 * min(ba - ta, bb - tb):
                        groups[a] += groups.pop(b)
                        merged = True
                        break
                if merged:
                    break
        for g in groups:
            low[g[0]], high[g[0]] = extent(g)[:2]
        return groups

    def _clusters(self, pieces, low, high, typical):
        """Pieces (sorted along the line) in runs no more than a stroke apart."""
        clusters = []
        for i in sorted(pieces, key=lambda i: low[i]):
            if clusters and low[i] - max(high[j] for j in clusters[-1]) <= 0.15 * typical:
                clusters[-1].append(i)
            else:
                clusters.append([i])
        return clusters
