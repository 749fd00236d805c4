"""The LeNet family: paddle's built-in LeNet, the same net written two other
ways, the 1998 original and a batch-normalised variant.

`lenet`, `lenet_sequential` and `lenet_layer` are one network expressed in
three styles (library class, `nn.Sequential`, `nn.Layer` subclass); given the
same weights they compute the same logits, which the tests check. `lenet` is
paddle's class with a faster forward (`FastLeNet`); the other two stay the
plain, readable form of the same function.
"""

import paddle
import paddle.nn.functional as F
from paddle import nn

from paddle_mnist.models.registry import register_model


class FastLeNet(paddle.vision.models.LeNet):
    """paddle.vision.models.LeNet, same parameters and state-dict names, with
    each conv bias added after the max-pool instead of before it.

    Profiling a training step showed the broadcast bias add on the conv
    outputs (and its gradient) took over a third of the time. Max-pool and
    relu are monotone and adding one constant per channel preserves order
    exactly in float arithmetic, so pool(relu(conv(x) + b)) equals
    relu(pool(conv(x)) + b) bit for bit, computed on a tensor 4x smaller;
    gradients agree to rounding. Adding a
    [C, 1] bias to an [N, C, H*W] view is cheaper in paddle's CPU kernels than
    a [1, C, 1, 1] bias to [N, C, H, W]. Reshapes use -1 so the forward also
    traces for export with a variable batch size. (The registry only builds it
    with num_classes >= 1, so paddle's classifier-less variant is not needed.)
    """

    def forward(self, inputs):
        conv1, conv2 = self.features[0], self.features[3]
        x = F.max_pool2d(F.conv2d(inputs, conv1.weight, padding=1), 2, 2)
        x = F.relu(x.reshape([-1, 6, 14 * 14]) + conv1.bias.reshape([6, 1]))
        x = F.max_pool2d(F.conv2d(x.reshape([-1, 6, 14, 14]), conv2.weight), 2, 2)
        x = F.relu(x.reshape([-1, 16, 5 * 5]) + conv2.bias.reshape([16, 1]))
        return self.fc(x.reshape([-1, 400]))


@register_model("lenet", input_size=28)
def lenet(num_classes: int = 10) -> nn.Layer:
    return FastLeNet(num_classes=num_classes)


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


@register_model("lenet_layer", input_size=28, same_weights_as="lenet")
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
