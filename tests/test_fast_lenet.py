"""The `lenet` registry entry (FastLeNet) is paddle.vision.models.LeNet, only faster.

Old checkpoints, fine-tuning and export rely on it having the library class's
parameters and names, and results across releases on it computing the same
function with the same gradients.
"""

import numpy as np
import paddle
import pytest

from paddle_mnist.models import create_model


def twin_networks():
    """paddle's LeNet and the registry's `lenet` holding the same weights."""
    paddle.seed(3)
    reference = paddle.vision.models.LeNet()
    fast = create_model("lenet")
    assert isinstance(fast, paddle.vision.models.LeNet)
    fast.set_state_dict(reference.state_dict())
    return reference, fast


def mnist_like_batch(batch=32, seed=0):
    rng = np.random.RandomState(seed)
    images = rng.uniform(-1, 1, (batch, 1, 28, 28)).astype("float32")
    images[rng.rand(*images.shape) < 0.8] = -1.0  # mostly background, like MNIST
    labels = rng.randint(0, 10, (batch, 1)).astype("int64")
    return paddle.to_tensor(images), paddle.to_tensor(labels)


def test_same_parameter_names_and_shapes_as_paddles_lenet():
    reference, fast = twin_networks()
    assert {k: v.shape for k, v in fast.state_dict().items()} == \
        {k: v.shape for k, v in reference.state_dict().items()}
    assert "features.0.bias" in fast.state_dict() and "fc.2.weight" in fast.state_dict()


def test_same_logits_bit_for_bit():
    reference, fast = twin_networks()
    images, _ = mnist_like_batch()
    np.testing.assert_array_equal(fast(images).numpy(), reference(images).numpy())


def test_same_gradients():
    reference, fast = twin_networks()
    images, labels = mnist_like_batch(batch=64, seed=1)
    for network in (reference, fast):
        paddle.nn.functional.cross_entropy(network(images), labels).backward()
    for (name, mine), theirs in zip(fast.named_parameters(), reference.parameters()):
        assert float(paddle.abs(theirs.grad).max()) > 0, name
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(),
                                   rtol=1e-5, atol=1e-7, err_msg=name)


def test_same_weights_after_adam_steps():
    reference, fast = twin_networks()
    optimizers = [paddle.optimizer.Adam(1e-3, parameters=n.parameters())
                  for n in (reference, fast)]
    for step in range(5):
        images, labels = mnist_like_batch(batch=64, seed=10 + step)
        for network, optimizer in zip((reference, fast), optimizers):
            paddle.nn.functional.cross_entropy(network(images), labels).backward()
            optimizer.step()
            optimizer.clear_grad()
    for (name, mine), theirs in zip(fast.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("batch", [1, 7])
def test_traced_forward_matches_for_any_batch(batch):
    _, fast = twin_networks()
    images, _ = mnist_like_batch(batch=batch)
    spec = paddle.static.InputSpec([None, 1, 28, 28], "float32", "image")
    static = paddle.jit.to_static(fast, input_spec=[spec], full_graph=True)
    np.testing.assert_allclose(static(images).numpy(), fast.forward(images).numpy(),
                               rtol=1e-6, atol=1e-6)

