"""Handwritten numbers composed from single digits and rendered as users' pictures.

Nobody has a labelled set of photos of numbers written by MNIST's writers, so
the number reader's tests, `tools/compose.py` (the evaluation sets) and
`tools/benchmark.py read` compose them: real digits (MNIST test digits, or the
scanned CVL and USPS digits of ../shared/data/real-digits) are placed left to
right at a height chosen per picture, each digit a little larger or smaller
and higher or lower than its neighbours, with gaps drawn per pair, the whole
number slanted, and then rendered in one of STYLES:

- `photo`: a phone photo (`photos.photograph`: tinted paper, uneven light,
  noise, dust, JPEG);
- `scan`: a flatbed scan, dark ink on near-white paper, PNG;
- `pad`: a web drawing pad, light brush on a dark canvas (`photos.pad_drawing`);
- `ruled`: a scan of ruled paper, the number written on a line, sometimes
  underlined;
- `tight`: MNIST's own scale (20-pixel digits) with gaps of 1-3 pixels.

Deterministic: the same digits, style and seed give the same bytes.
"""

import os

import numpy as np
from PIL import Image

from .photos import encode, pad_drawing, pen_strokes, photograph

STYLES = ("photo", "scan", "pad", "ruled", "tight")


def strokes_of(digit, height, rng):
    """A uint8 28x28 MNIST digit as crisp pen strokes whose ink is `height` px tall."""
    rows = np.flatnonzero(digit.max(axis=1) > 0)
    ink_rows = max(1, rows[-1] - rows[0] + 1) if rows.size else 20
    side = max(8, round(28 * height / ink_rows))
    strokes = pen_strokes(digit, side, rng.uniform(-4, 4), edge=rng.uniform(0.2, 0.4))
    return crop(strokes)


def crop(ink):
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def compose(pieces, rng, height, gap_range, touching=()):
    """Ink strips (float [0, 1], each one digit) -> one slanted line of ink.

    `height` is the typical digit height in pixels; baselines vary by 8% of
    it, and each gap is drawn from `gap_range` (in MNIST pixels, scaled by
    height / 20); the digits at the indices in `touching` touch the next one.
    """
    unit = height / 20
    gaps = [rng.uniform(*((-3, -1) if index in touching else gap_range)) * unit
            for index in range(len(pieces) - 1)] + [0]
    drops = [rng.uniform(-0.08, 0.08) * height for _ in pieces]
    width = int(sum(p.shape[1] for p in pieces) + sum(gaps)) + 2
    top = int(-min(drops)) + 1
    canvas = np.zeros((int(max(p.shape[0] for p in pieces) + top + max(drops) + 2), width),
                      np.float32)
    x = 1.0
    for piece, gap, drop in zip(pieces, gaps, drops):
        y = int(top + drop + (height - piece.shape[0]) / 2 if piece.shape[0] < height
                else top + drop)
        y = max(0, min(y, canvas.shape[0] - piece.shape[0]))
        left = int(round(x))
        region = canvas[y:y + piece.shape[0], left:left + piece.shape[1]]
        np.maximum(region, piece[:, :region.shape[1]], out=region)
        x += piece.shape[1] + gap
    return slant(canvas, rng.uniform(-0.3, 0.3))


def slant(ink, shear):
    """Lean the writing: the top moves right by `shear` x its height (left if < 0)."""
    height, width = ink.shape
    extra = int(abs(shear) * height) + 1
    out = Image.fromarray(ink, "F").transform(
        (width + extra, height), Image.AFFINE,
        (1, shear, -extra if shear > 0 else 0, 0, 1, 0) if shear > 0 else
        (1, shear, 0, 0, 1, 0), resample=Image.BILINEAR)
    return crop(np.clip(np.asarray(out), 0, 1)) if np.asarray(out).max() > 0 else ink


def on_page(ink, rng, fill=(0.4, 0.8), aspect=(0.45, 0.75), min_height=None):
    """The ink line placed at a random spot of a page it fills `fill` of in width."""
    width = int(ink.shape[1] / rng.uniform(*fill)) + 8
    height = max(int(width * rng.uniform(*aspect)), ink.shape[0] + 8, min_height or 0)
    page = np.zeros((height, width), np.float32)
    top = int(rng.integers(4, height - ink.shape[0] - 3))
    left = int(rng.integers(4, width - ink.shape[1] - 3))
    page[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return page, top


def scan(ink, rng, rules=()):
    """PNG of a flatbed scan: near-white paper, dark ink, ruled lines (rows) below it."""
    paper = rng.uniform(225, 252)
    gray = np.full(ink.shape, paper, np.float32)
    line_ink = rng.uniform(0.3, 0.6)
    thickness = int(rng.integers(1, 4))
    for row in rules:
        gray[row:row + thickness] = paper * (1 - line_ink)
    gray = gray * (1 - ink) + rng.uniform(10, 60) * ink
    gray += rng.normal(0, rng.uniform(1, 3), size=gray.shape)
    return encode(np.clip(gray, 0, 255).astype(np.uint8), "PNG")


def render(strokes, style, seed):
    """The file bytes of a picture of a number in `style`; `strokes(height, rng)`
    gives its digits as ink strips about `height` pixels tall."""
    rng = np.random.default_rng([seed, STYLES.index(style)])
    if style == "tight":
        height = rng.uniform(18, 24)
        ink = compose(strokes(height, rng), rng, height, (1, 3))
        page, _ = on_page(ink, rng, fill=(0.6, 0.9))
        return scan(page, rng) if rng.random() < 0.5 else pad_drawing(page, rng)
    height = rng.uniform(36, 90)
    ink = compose(strokes(height, rng), rng, height, (3, 10))
    if style == "photo":
        return photograph(on_page(ink, rng)[0], rng)
    if style == "pad":
        return pad_drawing(on_page(ink, rng, fill=(0.6, 0.9))[0], rng)
    if style == "ruled":
        page, top = on_page(ink, rng, min_height=int(3 * height))
        base = top + ink.shape[0] - int(rng.integers(0, 3))
        spacing = int(height * rng.uniform(1.4, 1.8))
        rows = [row for row in range(base % spacing, page.shape[0], spacing)]
        return scan(page, rng, rows)
    return scan(on_page(ink, rng)[0], rng)


def mnist_number(digits, style, seed):
    """uint8 28x28 MNIST digits -> file bytes of their number rendered in `style`;
    each digit's height varies by +-12% around the picture's."""
    def strokes(height, rng):
        return [strokes_of(digit, height * rng.uniform(0.88, 1.12), rng) for digit in digits]
    return render(strokes, style, seed)


def real_number(scans, seed):
    """Grey scans of single digits (float [0, 1], dark on light, any size) -> PNG of
    their number as a flatbed scan: the scans' own ink, placed as in `compose`."""
    def strokes(height, rng):
        pieces = []
        for gray in scans:
            paper = np.percentile(gray, 90)
            ink = crop(np.clip((paper - gray) / max(paper, 0.05), 0, 1))
            scale = height * rng.uniform(0.88, 1.12) / ink.shape[0]
            size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
            pieces.append(np.asarray(Image.fromarray(ink, "F").resize(size, Image.BILINEAR)))
        return pieces
    return render(strokes, "scan", seed)


def number_photo(digits, seed, shape=(720, 1280)):
    """JPEG phone photo of `shape` (height, width) with the number of these MNIST
    digits across about half of its width: the read benchmark's picture."""
    rng = np.random.default_rng([seed, 7])
    height = shape[1] * 0.5 / len(digits) * rng.uniform(0.9, 1.1)

    def strokes(size, rng):
        return [strokes_of(digit, size * rng.uniform(0.88, 1.12), rng) for digit in digits]
    ink = compose(strokes(height, rng), rng, height, (3, 10))
    ink = ink[:shape[0] - 8, :shape[1] - 8]
    page = np.zeros(shape, np.float32)
    top = int(rng.integers(4, shape[0] - ink.shape[0] - 3))
    left = int(rng.integers(4, shape[1] - ink.shape[1] - 3))
    page[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    return photograph(page, rng)


def write_set(folder, digits, labels, count, seed, lengths=(2, 8), real=False):
    """Write `count` pictures of numbers composed from `digits` (uint8 28x28 MNIST
    digits, or with `real` grey float scans) into `folder` as
    `<index>_<number>_<style>.<ext>`, the layout `tools/eval.py --numbers` reads.
    Returns the paths written."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        picked = rng.choice(len(digits), size=int(rng.integers(lengths[0], lengths[1] + 1)),
                            replace=False)
        number = "".join(str(labels[i]) for i in picked)
        style = "scan" if real else STYLES[index % len(STYLES)]
        data = (real_number([digits[i] for i in picked], seed + index) if real
                else mnist_number([digits[i] for i in picked], style, seed + index))
        path = os.path.join(folder, f"{index:04d}_{number}_{style}."
                                    f"{'jpg' if style == 'photo' else 'png'}")
        with open(path, "wb") as f:
            f.write(data)
        paths.append(path)
    return paths
