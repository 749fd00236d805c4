"""Pixels to network input, for whole batches at once.

Per-sample Python transforms cost more than LeNet's forward pass on a CPU, so
normalisation works on a batch in numpy and augmentation on a batch tensor
(a few pooling, convolution and grid_sample calls, whatever the batch size).
`to_input` is the single definition of the model's input, shared by
training, evaluation, export and prediction.

`augment_batch` distorts each image of a batch on its own, in the ways other
people's digits differ from MNIST's (`data.augment` in the config switches
each on): pen width (`thickness`: grey dilation or erosion by a fraction of
a pixel up to two), slant and proportions (`shear`, `aspect`), size,
rotation and position (`scale`, `degrees`, `translate`), the wobble of a
hand (`elastic`: a smooth random displacement field, Simard et al. 2003),
focus (`blur`) and thresholded scans (`binarize`: hard-edged ink).
"""

import numpy as np

ELASTIC_KNOTS = 4   # the displacement field is drawn on a 4x4 grid and smoothly interpolated
BINARY_LEVELS = (0.25, 0.75)  # a binarised image keeps the ink above this share of its peak


def to_input(images, input_size=28, mean=127.5, std=127.5):
    """uint8 [N,28,28] (0 = background) -> float32 [N,1,S,S], normalised."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None]
    pad = (input_size - images.shape[-1]) // 2
    if pad:  # LeNet-5 and the two-scale net were designed for 32x32 input
        images = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    return ((images - mean) / std)[:, None]


def augment_batch(batch, rng, augment, background):
    """Distort every image of a [N,1,H,W] tensor independently, as `augment` (an
    AugmentConfig) says; `background` is the normalised value of an empty pixel.

    Random numbers come from `rng` in a fixed order, geometry first, so a
    config that leaves the newer distortions off draws exactly what it did
    before they existed.
    """
    import paddle
    import paddle.nn.functional as F

    n, _, height, width = batch.shape
    theta = _affine(rng, n, augment)
    low, high = augment.thickness
    widen = rng.uniform(low, high, n) if low or high else None
    shape = [n, 1, height, width]
    grid = F.affine_grid(paddle.to_tensor(theta), shape, align_corners=False)
    if augment.elastic:
        knots = rng.normal(0, augment.elastic, (n, 2, ELASTIC_KNOTS, ELASTIC_KNOTS))
        field = F.interpolate(paddle.to_tensor(knots.astype(np.float32)), size=[height, width],
                              mode="bicubic", align_corners=True)
        # pixels -> grid units (the grid spans 2 across the image); x first, as grid_sample
        scale = paddle.to_tensor(np.array([2 / width, 2 / height], np.float32))
        grid = grid + paddle.transpose(field, [0, 2, 3, 1]) * scale
    sigma = rng.uniform(0, augment.blur, n) if augment.blur else None
    binary = rng.random_sample(n) < augment.binarize if augment.binarize else None
    levels = rng.uniform(*BINARY_LEVELS, n) if augment.binarize else None

    ink = batch - background
    if widen is not None or sigma is not None:
        peak = paddle.amax(ink, axis=[1, 2, 3], keepdim=True)
    if widen is not None:
        ink = _thickness(ink, widen)
    ink = F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if sigma is not None:
        ink = _blur(ink, sigma)
    if widen is not None or sigma is not None:
        # thinning and blurring dim the strokes, but preprocessing always scales a
        # user's digit to full ink: keep each image's peak where it was
        ink = ink * peak / paddle.clip(paddle.amax(ink, axis=[1, 2, 3], keepdim=True), min=1e-6)
    if binary is not None and binary.any():
        ink = _binarize(ink, binary, levels)
    return ink + background


def _affine(rng, n, augment):
    """[N, 2, 3] output -> input maps for affine_grid: rotation, zoom, shift, then
    shear and aspect when asked for."""
    angle = np.deg2rad(rng.uniform(-augment.degrees, augment.degrees, n))
    zoom = rng.uniform(augment.scale[0], augment.scale[1], n)
    shift = rng.uniform(-augment.translate, augment.translate, (n, 2)) * 2  # grid spans 2
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    # affine_grid maps output coordinates to input ones, hence the inverse zoom
    linear = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
    if augment.shear or augment.aspect:
        slant = np.tan(np.deg2rad(rng.uniform(-augment.shear, augment.shear, n)))
        spread = np.log1p(augment.aspect)
        ratio = np.exp(rng.uniform(-spread, spread, n))  # width over height, log-uniform
        inverse = np.zeros((n, 2, 2))
        inverse[:, 0, 0], inverse[:, 0, 1] = 1 / np.sqrt(ratio), -slant / np.sqrt(ratio)
        inverse[:, 1, 1] = np.sqrt(ratio)
        linear = inverse @ linear  # output -> undo rotation and zoom -> undo shear, aspect
    return np.concatenate([linear, shift[:, :, None]], 2).astype(np.float32)


def _thickness(ink, widen):
    """Grey dilation (widen > 0) or erosion (< 0) by |widen| pixels, fractions
    blended between whole 3x3 steps; ink is >= 0 on a 0 background."""
    import paddle
    import paddle.nn.functional as F

    steps = int(np.ceil(np.abs(widen).max()))
    grown, shrunk = [ink], [ink]
    for _ in range(steps):
        grown.append(F.max_pool2d(grown[-1], 3, 1, 1))
        shrunk.append(-F.max_pool2d(-shrunk[-1], 3, 1, 1))
    out = paddle.zeros_like(ink)
    for amount, stack in ((np.clip(widen, 0, None), grown), (np.clip(-widen, 0, None), shrunk)):
        for step in range(steps):
            # weight of level step+1 minus level step: a ramp clipped to [0, 1]
            part = np.clip(amount - step, 0, 1).astype(np.float32).reshape(-1, 1, 1, 1)
            out = out + paddle.to_tensor(part) * (stack[step + 1] - stack[step])
    return ink + out


def _blur(ink, sigma):
    """Gaussian blur with each image's own sigma (0 leaves it as it is): one
    separable pair of grouped convolutions for the whole batch."""
    import paddle
    import paddle.nn.functional as F

    n, _, height, width = ink.shape
    reach = max(1, int(np.ceil(2 * sigma.max())))
    offsets = np.arange(-reach, reach + 1)
    kernel = np.exp(-0.5 * (offsets[None] / np.maximum(sigma[:, None], 1e-3)) ** 2)
    kernel = (kernel / kernel.sum(axis=1, keepdims=True)).astype(np.float32)
    rows = paddle.to_tensor(kernel.reshape(n, 1, -1, 1))
    cols = paddle.to_tensor(kernel.reshape(n, 1, 1, -1))
    flat = paddle.reshape(ink, [1, n, height, width])
    flat = F.conv2d(flat, rows, padding=[reach, 0], groups=n)
    flat = F.conv2d(flat, cols, padding=[0, reach], groups=n)
    return paddle.reshape(flat, [n, 1, height, width])


def _binarize(ink, chosen, levels):
    """The chosen images thresholded at `levels` of their own peak: ink at the
    peak or nothing, as a black-and-white scan has it."""
    import paddle

    peak = paddle.amax(ink, axis=[1, 2, 3], keepdim=True)
    cut = paddle.to_tensor(levels.astype(np.float32).reshape(-1, 1, 1, 1)) * peak
    hard = paddle.where(ink > cut, peak.expand_as(ink), paddle.zeros_like(ink))
    pick = paddle.to_tensor(chosen.reshape(-1, 1, 1, 1))
    return paddle.where(pick.expand_as(ink), hard, ink)
