"""Pixels to network input, for whole batches at once.

Per-sample Python transforms cost more than LeNet's forward pass on a CPU, so
normalisation works on a batch in numpy and augmentation on a batch tensor
(one affine_grid + grid_sample call). `to_input` is the single definition of
the model's input, shared by training, evaluation, export and prediction.
"""

import numpy as np


def to_input(images, input_size=28, mean=127.5, std=127.5):
    """uint8 [N,28,28] (0 = background) -> float32 [N,1,S,S], normalised."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 2:
        images = images[None]
    pad = (input_size - images.shape[-1]) // 2
    if pad:  # LeNet-5 and the two-scale net were designed for 32x32 input
        images = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    return ((images - mean) / std)[:, None]


def random_affine(batch, rng, degrees, translate, scale, background):
    """Rotate/translate/scale every image of a [N,1,H,W] tensor independently.

    `background` is the normalised value of an empty pixel, so the area
    uncovered by a shift stays background rather than turning grey.
    """
    import paddle
    import paddle.nn.functional as F

    n = batch.shape[0]
    angle = np.deg2rad(rng.uniform(-degrees, degrees, n))
    zoom = rng.uniform(scale[0], scale[1], n)
    shift = rng.uniform(-translate, translate, (n, 2)) * 2  # grid coordinates span 2
    cos, sin = np.cos(angle) / zoom, np.sin(angle) / zoom
    # affine_grid maps output coordinates to input ones, hence the inverse zoom
    theta = np.stack([np.stack([cos, -sin, shift[:, 0]], 1),
                      np.stack([sin, cos, shift[:, 1]], 1)], 1).astype(np.float32)
    grid = F.affine_grid(paddle.to_tensor(theta), batch.shape, align_corners=False)
    moved = F.grid_sample(batch - background, grid, mode="bilinear",
                          padding_mode="zeros", align_corners=False)
    return moved + background
