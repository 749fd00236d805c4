"""A two-branch network that looks at the digit at two scales.

A shared 3x3 conv feeds a fine branch (pool, then two small strided convs)
and a coarse branch (one large 12x12 strided conv); both end at 5x5 so their
channels can be concatenated and reduced to class scores by a final 5x5 conv.
Shapes for a 32x32 input are noted beside each stage.
"""

import paddle
from paddle import nn

from paddle_mnist.models.registry import register_model


class TwoScaleNet(nn.Layer):
    def __init__(self, num_classes: int = 10, relu_logits: bool = False):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2D(1, 12, 3), nn.ReLU())  # 12x30x30
        self.fine = nn.Sequential(
            nn.MaxPool2D(2, 2),  # 12x15x15
            nn.Conv2D(12, 24, 3, stride=2, padding=2),  # 24x9x9
            nn.ReLU(),
            nn.Conv2D(24, 36, 3, stride=2, padding=1),  # 36x5x5
            nn.ReLU(),
        )
        self.coarse = nn.Sequential(
            nn.Conv2D(12, 12, 12, stride=5, padding=1),  # 12x5x5
            nn.ReLU(),
        )
        self.head = nn.Conv2D(36 + 12, num_classes, 5)  # num_classes x1x1
        # The original network put a ReLU on the logits. That clamps every
        # negative class score to 0, so softmax cross-entropy can no longer
        # push wrong classes below zero and their gradients vanish, which
        # hurts training; it is kept only to reproduce the original.
        self.relu_logits = relu_logits

    def forward(self, images):
        shared = self.stem(images)
        both = paddle.concat([self.fine(shared), self.coarse(shared)], axis=1)
        logits = paddle.flatten(self.head(both), start_axis=1)
        return nn.functional.relu(logits) if self.relu_logits else logits


@register_model("two_scale", input_size=32)
def two_scale(num_classes: int = 10, relu_logits: bool = False) -> nn.Layer:
    return TwoScaleNet(num_classes, relu_logits=relu_logits)
