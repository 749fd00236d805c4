"""The LeNet family: paddle's built-in LeNet, the same net written two other
ways, the 1998 original and a batch-normalised variant.

`lenet`, `lenet_sequential` and `lenet_layer` are one network expressed in
three styles (library class, `nn.Sequential`, `nn.Layer` subclass); given the
same weights they compute the same logits, which the tests check.
"""

import paddle
from paddle import nn

from paddle_mnist.models.registry import register_model


@register_model("lenet", input_size=28)
def lenet(num_classes: int = 10) -> nn.Layer:
    return paddle.vision.models.LeNet(num_classes=num_classes)


@register_model("lenet_sequential", input_size=28)
def lenet_sequential(num_classes: int = 10) -> nn.Layer:
    # Like paddle's LeNet there is no activation between the Linear layers.
    return nn.Sequential(
        nn.Conv2D(1, 6, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2D(2, 2),
        nn.Conv2D(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2D(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.Linear(120, 84),
        nn.Linear(84, num_classes),
    )


class LeNetLayer(nn.Layer):
    """`lenet_sequential` as a Layer subclass; its attribute names match
    paddle's LeNet (`features`, `fc`), so their state dicts are interchangeable."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2D(1, 6, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2D(2, 2),
            nn.Conv2D(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2D(2, 2),
        )
        self.fc = nn.Sequential(
            nn.Linear(400, 120),
            nn.Linear(120, 84),
            nn.Linear(84, num_classes),
        )

    def forward(self, images):
        return self.fc(paddle.flatten(self.features(images), start_axis=1))


@register_model("lenet_layer", input_size=28)
def lenet_layer(num_classes: int = 10) -> nn.Layer:
    return LeNetLayer(num_classes)


@register_model("lenet5_classic", input_size=32)
def lenet5_classic(num_classes: int = 10) -> nn.Layer:
    # LeCun et al. 1998: tanh units and average ("subsampling") pools followed
    # by a sigmoid, on 32x32 inputs, so the last conv reduces 5x5 to 1x1.
    return nn.Sequential(
        nn.Conv2D(1, 6, 5),
        nn.Tanh(),
        nn.AvgPool2D(2),
        nn.Sigmoid(),
        nn.Conv2D(6, 16, 5),
        nn.Tanh(),
        nn.AvgPool2D(2),
        nn.Sigmoid(),
        nn.Conv2D(16, 120, 5),
        nn.Tanh(),
        nn.Flatten(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, num_classes),
    )


@register_model("lenet_bn", input_size=28)
def lenet_bn(num_classes: int = 10) -> nn.Layer:
    return nn.Sequential(
        nn.Conv2D(1, 6, 5),
        nn.BatchNorm2D(6),
        nn.ReLU(),
        nn.MaxPool2D(2, 2),
        nn.Conv2D(6, 16, 5),
        nn.BatchNorm2D(16),
        nn.ReLU(),
        nn.MaxPool2D(2, 2),
        nn.Flatten(),
        nn.Linear(256, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, num_classes),
    )
