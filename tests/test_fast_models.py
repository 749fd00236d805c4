"""The speed-minded formulations in models/fast_cnn.py compute what the plain ones do."""

import numpy as np
import paddle
import pytest
from paddle import nn

from paddle_mnist.errors import ConfigError
from paddle_mnist.models import create_model
from paddle_mnist.models.fast_cnn import ConvPoolReLU


def plain_fast_cnn(fast, kernel):
    """fast_cnn written the textbook way (conv with bias -> ReLU -> pool), same weights."""
    convs = [stage.conv for stage in fast[:2]]
    layers = []
    for conv, stage in zip(convs, fast[:2]):
        plain = nn.Conv2D(conv.weight.shape[1], conv.weight.shape[0], kernel,
                          padding=kernel // 2)
        plain.weight.set_value(conv.weight)
        plain.bias.set_value(stage.bias.reshape([-1]))
        layers += [plain, nn.ReLU(), nn.MaxPool2D(2, 2)]
    head = nn.Linear(*fast[3].weight.shape)
    head.weight.set_value(fast[3].weight)
    head.bias.set_value(fast[3].bias)
    return nn.Sequential(*layers, nn.Flatten(), head)


def images(n=8, seed=0):
    return paddle.to_tensor(np.random.default_rng(seed).standard_normal((n, 1, 28, 28),
                                                                        dtype=np.float32))


def loss_and_grads(net, x, labels, params):
    loss = nn.functional.cross_entropy(net(x), labels)
    loss.backward()
    return float(loss), [p.grad.numpy().reshape(-1) for p in params]


@pytest.mark.parametrize("kernel", [3, 5])
def test_fast_cnn_equals_the_plain_order(kernel):
    paddle.seed(1)
    fast = create_model("fast_cnn", widths=[6, 12], kernel=kernel)
    for stage in fast[:2]:  # non-zero biases, so their placement matters
        stage.bias.set_value(paddle.uniform(stage.bias.shape, min=-0.5, max=0.5))
    plain = plain_fast_cnn(fast, kernel)
    x, labels = images(), paddle.to_tensor(np.arange(8)[:, None] % 10)
    np.testing.assert_allclose(fast(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-5)
    # the same parameters in the same order: conv weight, bias, conv weight, bias, linear
    fast_params = [fast[0].conv.weight, fast[0].bias, fast[1].conv.weight, fast[1].bias,
                   fast[3].weight, fast[3].bias]
    plain_params = [plain[0].weight, plain[0].bias, plain[3].weight, plain[3].bias,
                    plain[7].weight, plain[7].bias]
    fast_loss, fast_grads = loss_and_grads(fast, x, labels, fast_params)
    plain_loss, plain_grads = loss_and_grads(plain, x, labels, plain_params)
    assert fast_loss == pytest.approx(plain_loss, rel=1e-6)
    for got, want in zip(fast_grads, plain_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_conv_pool_relu_traces_for_export_with_any_batch():
    block = ConvPoolReLU(1, 4, 3)
    block.eval()
    static = paddle.jit.to_static(block, input_spec=[paddle.static.InputSpec([None, 1, 28, 28])],
                                  full_graph=True)
    for n in (1, 5):
        x = images(n)
        np.testing.assert_allclose(static(x).numpy(), block(x).numpy(), rtol=1e-5, atol=1e-6)


def test_bn_cnn_convs_have_no_bias():
    net = create_model("bn_cnn")
    convs = [layer for layer in net.sublayers() if isinstance(layer, nn.Conv2D)]
    assert len(convs) == 3 and all(conv.bias is None for conv in convs)


@pytest.mark.parametrize("name, args", [
    ("fast_cnn", {"widths": [16]}), ("fast_cnn", {"widths": [16, 0]}),
    ("fast_cnn", {"kernel": 4}), ("bn_cnn", {"widths": 32}), ("bn_cnn", {"dropout": 1.0}),
    ("bn_cnn", {"hidden": 0}),
])
def test_bad_arguments_are_config_errors(name, args):
    with pytest.raises(ConfigError, match=f"model '{name}'"):
        create_model(name, **args)
