"""Small CNNs written for CPU speed: `fast_cnn` (the most accuracy in ~10
seconds) and `bn_cnn` (the most accurate single model a 20-minute budget allows).

On a CPU, paddle's dygraph spends a large share of a small conv net's step on
the conv bias: its add and its gradient run over every pixel of the full-size
feature map (over a third of a LeNet step here). Two ways around it, neither
changes what the network computes:

* conv -> bias -> ReLU -> 2x2 max-pool equals conv -> max-pool -> bias -> ReLU,
  because a per-channel constant and a monotonic ReLU both commute with a max.
  The second order adds the bias on a quarter of the pixels. `ConvPoolReLU`
  does that; `tests/test_fast_models.py` checks it against the plain order.
* a conv followed by batch norm needs no bias at all: BN subtracts the
  channel mean, and its own shift plays the bias's part.
"""

from typing import Sequence

import paddle
from paddle import nn

from paddle_mnist.errors import ConfigError
from paddle_mnist.yamlfile import short
from paddle_mnist.models.registry import register_model


class ConvPoolReLU(nn.Layer):
    """relu(maxpool2x2(conv(x) + b)), computed as relu(maxpool2x2(conv(x)) + b)."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv = nn.Conv2D(c_in, c_out, kernel, padding=kernel // 2, bias_attr=False)
        self.pool = nn.MaxPool2D(2, 2)
        # [C, 1] broadcasts over the flattened pixels of a [N, C, H*W] view,
        # which paddle adds and reduces faster than a [C, 1, 1] over [N, C, H, W]
        self.bias = self.create_parameter([c_out, 1], is_bias=True)

    def forward(self, x):
        pooled = self.pool(self.conv(x))
        height, width = pooled.shape[2:]
        flat = paddle.reshape(pooled, [0, 0, height * width]) + self.bias
        return nn.functional.relu(paddle.reshape(flat, [0, 0, height, width]))


def _check_widths(name, widths, count):
    if (not isinstance(widths, (list, tuple)) or len(widths) != count
            or not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths)):
        raise ConfigError(f"model '{name}': widths must be a list of {count} positive "
                          f"integers, got {short(widths)}")
    return list(widths)


@register_model("fast_cnn", input_size=28)
def fast_cnn(num_classes: int = 10, widths: Sequence[int] = (16, 32), kernel: int = 3) -> nn.Layer:
    """Two conv/pool stages (28 -> 14 -> 7) and one linear layer.

    Default widths (16, 32), 3x3 kernels: 16*9 + 16 + 32*16*9 + 32 +
    32*49*10 + 10 = 20,490 parameters for 10 classes.
    """
    first, second = _check_widths("fast_cnn", widths, 2)
    if kernel not in (3, 5):
        raise ConfigError(f"model 'fast_cnn': kernel must be 3 or 5, got {short(kernel)}")
    return nn.Sequential(
        ConvPoolReLU(1, first, kernel),        # first x 14 x 14
        ConvPoolReLU(first, second, kernel),   # second x 7 x 7
        nn.Flatten(),
        nn.Linear(second * 7 * 7, num_classes),
    )


class ConvPoolBNReLU(nn.Sequential):
    """conv (no bias) -> 2x2 max-pool -> batch norm -> ReLU.

    Pooling before batch norm and ReLU (as in the fast CIFAR-10 training
    recipes) runs those two on a quarter of the pixels; this is a design
    choice, not a rewrite of conv -> BN -> ReLU -> pool (BN's scale may be
    negative, and its statistics are taken after the pool). The conv needs no
    bias: batch norm removes any per-channel constant right away.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__(nn.Conv2D(c_in, c_out, 3, padding=1, bias_attr=False),
                         nn.MaxPool2D(2, 2), nn.BatchNorm2D(c_out), nn.ReLU())


@register_model("bn_cnn", input_size=28)
def bn_cnn(num_classes: int = 10, widths: Sequence[int] = (16, 32, 64), hidden: int = 128,
           dropout: float = 0.2) -> nn.Layer:
    """Three 3x3 conv stages, each pooled (28 -> 14 -> 7 -> 3), then a
    batch-normalised hidden layer and dropout.

    Default widths (16, 32, 64), hidden 128: convs 16*9 + 32*16*9 + 64*32*9,
    batch norms 2*(16 + 32 + 64 + 128), linears 576*128 + 128*10 + 10:
    98,682 trainable parameters for 10 classes.
    """
    a, b, c = _check_widths("bn_cnn", widths, 3)
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ConfigError(f"model 'bn_cnn': hidden must be a positive integer, got {short(hidden)}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError(f"model 'bn_cnn': dropout must be in [0, 1), got {short(dropout)}")
    return nn.Sequential(
        ConvPoolBNReLU(1, a),   # a x 14 x 14
        ConvPoolBNReLU(a, b),   # b x 7 x 7
        ConvPoolBNReLU(b, c),   # c x 3 x 3
        nn.Flatten(),
        nn.Linear(c * 9, hidden, bias_attr=False), nn.BatchNorm1D(hidden), nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, num_classes),
    )
