"""Turn a user's picture of a digit into a 28x28 array made the way MNIST was.

A network trained on MNIST only knows MNIST's conventions: a light grey-level
digit on a black field, its bounding box scaled (aspect kept, anti-aliased) to
fit 20x20, pasted into 28x28 so that its centre of mass sits at the centre.
Photos and scans break all of them (dark ink on light, uneven paper, noise,
off-centre, any size), so each step below restores one convention. Pure numpy
and PIL: the CLI, the web demo and the tests use it without loading a model.
"""

import numpy as np
from PIL import Image

from .errors import ImageError
from .images import load_image, source_name, to_gray

__all__ = ["load_image", "to_mnist", "prepare_file"]

WORK_SIDE = 1024    # enough resolution for any digit, small enough to stay fast
BOX = 20            # MNIST's digits fit a 20x20 box ...
FIELD = 28          # ... inside a 28x28 field,
MASS_CENTRE = 14.0  # with their centre of mass here (mean 13.99, 14.01 on the test set)
POLARITY_RANK = 20  # compare the 21st darkest and brightest: a digit has more, glare fewer
MIN_CONTRAST = 0.1  # ink at least this much brighter than paper, in [0, 1] units
NOISE_MARGIN = 8    # ... and this many noise sigmas, so a blank page is not a digit
EDGE_FLOOR = 0.15   # fraction of the ink level cleared as paper texture and shadow
SPECK_FRACTION = 0.1   # blobs with less ink than this share of the largest are dust ...
PIECE_FRACTION = 0.002  # ... unless they lie by the digit and have at least this share
POOL_SIDE = 128     # blob search grid; pooling also joins strokes broken by a gap
STROKE_WIDTH = 2.3  # MNIST's median stroke width in pixels of the 20x20 box ...
THIN_STROKE = 1.6   # ... and its 5th percentile: thinner pen lines are widened


def to_mnist(image):
    """PIL image or array (uint8 HxW[x3|4], or float HxW in [0, 1]) -> uint8 (28, 28).

    Light digit on black, like `paddle_mnist.data.idx` arrays. Raises ImageError
    when there is no digit: blank or uniform pictures, including 1x1 images.
    """
    ink = extract_ink(shrink(to_gray(image), WORK_SIDE))
    ink = isolate_ink(denoise(ink))
    digit = thicken(crop_to_ink(drop_specks(ink)), BOX)
    digit = fit_box(crop_to_ink(digit), BOX)
    return np.round(centre_by_mass(digit, FIELD) * 255).astype(np.uint8)


def prepare_file(source, *, name=None):
    """Image file (path or bytes) -> uint8 (28, 28); ImageError names the file."""
    image = load_image(source, name=name)
    try:
        return to_mnist(image)
    except ImageError as err:
        raise ImageError(f"{source_name(source, name)}: {err}") from None


def shrink(gray, side):
    """Area-average down so the longer side is at most `side` pixels."""
    scale = side / max(gray.shape)
    return gray if scale >= 1 else rescale(gray, scale, Image.BOX)


def rescale(array, scale, resample):
    """Resize a float image by `scale` (each side at least 1 pixel) with PIL's filter."""
    size = [max(1, round(n * scale)) for n in reversed(array.shape)]
    return np.asarray(Image.fromarray(array.astype(np.float32), "F").resize(size, resample))


def paper_is_light(gray):
    """True for dark ink on light paper: once the smooth background is removed,
    the darkest outliers reach further than the brightest (noise is symmetric,
    ink is not), even when the digit covers a tiny part of the picture."""
    residual = (gray - background_surface(gray, ink_side="either")).ravel()
    rank = min(POLARITY_RANK, residual.size - 1)
    darkest = np.partition(residual, rank)[rank]
    brightest = np.partition(residual, -rank - 1)[-rank - 1]
    return bool(-darkest > brightest)


def extract_ink(gray):
    """Light-on-dark ink with the background flattened to 0.

    Paper reflects light, so a shadow or gradient scales ink and paper alike:
    dividing by the fitted paper brightness makes a stroke equally strong
    everywhere. A screen's dark canvas emits nothing, so there it is subtracted.
    """
    if not paper_is_light(gray):
        return gray - background_surface(gray)
    ink = 1 - gray
    shade = background_surface(ink)
    return (ink - shade) / np.maximum(1 - shade, 0.05)


def background_surface(ink, ink_side="above", rounds=4):
    """A smooth (quadratic) fit of the background under ink that lies "above"
    it (light on dark) or on an unknown side ("either").

    The fit is robust: it starts from the middle half of the pixels (the darker
    half for ink above) and each round drops those well off it (the ink), so
    the surface follows the background even under a large, thick digit.
    """
    height, width = ink.shape
    step = max(1, max(height, width) // 64)

    def terms(y, x):
        y, x = y / height - 0.5, x / width - 0.5
        return [1.0, y, x, y * y, x * y, x * x]

    ys, xs = np.mgrid[0:height:step, 0:width:step]
    basis = np.stack([np.broadcast_to(t, ys.shape).ravel() for t in terms(ys, xs)], axis=-1)
    samples = ink[::step, ::step].ravel()
    low, middle, high = np.percentile(samples, [25, 50, 75])
    paper = samples <= middle if ink_side == "above" else (samples >= low) & (samples <= high)
    for _ in range(rounds):
        coef = np.linalg.lstsq(basis[paper], samples[paper], rcond=None)[0]
        residual = samples - basis @ coef
        spread = 1.4826 * np.median(np.abs(residual[paper]))
        off = residual if ink_side == "above" else np.abs(residual)
        paper = off <= 2.5 * spread + 1e-3
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    surface = sum(c * t for c, t in zip(coef, terms(rows, cols)))
    return np.broadcast_to(surface, ink.shape).astype(np.float32)


def denoise(ink):
    """A Gaussian blur of about a pixel on pictures big enough (>= 600 px) for
    sensor grain to be much finer than any stroke; smaller ones keep every pixel."""
    sigma = max(ink.shape) / 1200
    if sigma < 0.5:
        return ink
    reach = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-reach, reach + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    for _ in range(2):  # rows, then (transposed) columns
        padded = np.pad(ink, ((reach, reach), (0, 0)), mode="edge")
        ink = sum(w * padded[i:i + ink.shape[0]] for i, w in enumerate(kernel)).T
    return ink.astype(np.float32)


def otsu_threshold(values, bins=256):
    """The level that best splits `values` into two classes (Otsu, 1979)."""
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = mass_low / weight_low
        mean_high = (mass_low[-1] - mass_low) / weight_high
        between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return centres[np.nanargmax(between)] if np.isfinite(between).any() else edges[-1]


def isolate_ink(ink):
    """Clear the paper to 0 and scale ink to ~1, keeping the strokes' soft edges.

    Raises ImageError when nothing stands out from the paper and its noise.
    """
    paper = np.median(ink)
    noise = 1.4826 * np.median(np.abs(ink - paper))
    strokes = ink[ink > otsu_threshold(ink)]
    level = np.percentile(strokes, 90) - paper if strokes.size else 0.0
    if level < max(MIN_CONTRAST, NOISE_MARGIN * noise):
        raise ImageError("no digit found in the image (blank or too little contrast); "
                         "photograph a dark digit on plain paper, filling much of the frame")
    floor = paper + max(4 * noise, EDGE_FLOOR * level)
    return np.clip((ink - floor) / (paper + level - floor), 0, 1)


def drop_specks(ink):
    """Zero the blobs that are not the digit: the digit is every blob with a fair
    share of the largest one's ink, plus smaller pieces lying by it (a pen
    lifted mid-stroke); dust, dots and noise go."""
    factor = -(-max(ink.shape) // POOL_SIDE)
    height, width = (-(-n // factor) for n in ink.shape)
    padded = np.zeros((height * factor, width * factor), np.float32)
    padded[:ink.shape[0], :ink.shape[1]] = ink
    cells = padded.reshape(height, factor, width, factor).sum(axis=(1, 3))
    labels, count = label_blobs(cells > 0)
    mass = np.bincount(labels.ravel(), weights=cells.ravel(), minlength=count + 1)
    mass[0] = 0
    major = mass >= SPECK_FRACTION * mass.max()
    major[0] = False
    rows, cols = np.nonzero(major[labels])
    margin = 1 + (np.ptp(rows) + np.ptp(cols)) // 16
    near = np.zeros(labels.shape, bool)
    near[max(0, rows.min() - margin):rows.max() + margin + 1,
         max(0, cols.min() - margin):cols.max() + margin + 1] = True
    keep = major | (mass >= PIECE_FRACTION * mass.max())
    keep[np.unique(labels[~near])] &= major[np.unique(labels[~near])]
    kept = np.kron(keep[labels], np.ones((factor, factor), bool))
    return np.where(kept[:ink.shape[0], :ink.shape[1]], ink, 0)


def label_blobs(mask):
    """8-connected components of a small boolean grid -> (labels, count); 0 is empty."""
    labels = np.zeros(mask.shape, np.int32)
    count = 0
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        count += 1
        labels[start] = count
        frontier = [start]
        while frontier:
            y, x = frontier.pop()
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if (0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1]
                            and mask[ny, nx] and not labels[ny, nx]):
                        labels[ny, nx] = count
                        frontier.append((ny, nx))
    return labels, count


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


def thicken(patch, box, oversample=4):
    """Widen thin pen lines to MNIST's typical stroke (widths measured in pixels
    of the `box` the digit will fill); returned at `oversample` x box size."""
    work = rescale(patch, oversample * box / max(patch.shape), Image.BILINEAR)
    current = stroke_width(work) / oversample
    if current >= THIN_STROKE:
        return work
    radius = (STROKE_WIDTH - current) / 2 * oversample
    reach = int(radius)
    padded = np.pad(work, 2 * reach)
    grown = np.zeros((work.shape[0] + 2 * reach, work.shape[1] + 2 * reach), np.float32)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            if dy * dy + dx * dx <= radius * radius:
                grown = np.maximum(grown, padded[reach + dy:reach + dy + grown.shape[0],
                                                 reach + dx:reach + dx + grown.shape[1]])
    return grown


def fit_box(patch, box):
    """Scale so the longer side is `box` pixels, aspect kept, anti-aliased, peak 1."""
    fitted = np.clip(rescale(patch, box / max(patch.shape), Image.LANCZOS), 0, None)
    return np.clip(fitted / fitted.max(), 0, 1) if fitted.max() > 0 else fitted


def centre_by_mass(patch, field):
    """Paste into a field x field square with the centre of mass at MASS_CENTRE."""
    height, width = patch.shape
    total = patch.sum()
    ys, xs = np.mgrid[0:height, 0:width]
    centre_y, centre_x = (ys * patch).sum() / total, (xs * patch).sum() / total
    top = int(np.clip(round(MASS_CENTRE - centre_y), 0, field - height))
    left = int(np.clip(round(MASS_CENTRE - centre_x), 0, field - width))
    out = np.zeros((field, field), np.float32)
    out[top:top + height, left:left + width] = patch
    return out
