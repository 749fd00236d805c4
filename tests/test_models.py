"""The registry's contract and each network's shapes and sizes (no data needed)."""

import numpy as np
import paddle
import pytest

from paddle_mnist.errors import ConfigError
from paddle_mnist.models import create_model, model_input_size, model_names, register_model


def conv(c_in, c_out, k):
    return c_out * c_in * k * k + c_out


def linear(n_in, n_out):
    return n_in * n_out + n_out


def batch_norm(channels):
    return 2 * channels  # scale and shift; running mean/variance are not trained


# Expected trainable parameter counts, worked out from the layer specs.
EXPECTED_PARAMETERS = {
    "lenet": conv(1, 6, 3) + conv(6, 16, 5) + linear(400, 120) + linear(120, 84) + linear(84, 10),
    "lenet5_classic": conv(1, 6, 5) + conv(6, 16, 5) + conv(16, 120, 5)
    + linear(120, 84) + linear(84, 10),
    "lenet_bn": conv(1, 6, 5) + batch_norm(6) + conv(6, 16, 5) + batch_norm(16)
    + linear(256, 120) + linear(120, 84) + linear(84, 10),
    "two_scale": conv(1, 12, 3) + conv(12, 24, 3) + conv(24, 36, 3) + conv(12, 12, 12)
    + conv(48, 10, 5),
    "mlp": linear(784, 256) + linear(256, 128) + linear(128, 10),
    "mlp_small": linear(784, 128) + linear(128, 10),
    "cnn": conv(1, 32, 3) + conv(32, 64, 3) + linear(9216, 128) + linear(128, 10),
}
EXPECTED_PARAMETERS["fast_cnn"] = conv(1, 16, 3) + conv(16, 32, 3) + linear(32 * 49, 10)
EXPECTED_PARAMETERS["bn_cnn"] = (conv(1, 16, 3) - 16 + batch_norm(16) + conv(16, 32, 3) - 32
                                 + batch_norm(32) + conv(32, 64, 3) - 64 + batch_norm(64)
                                 + linear(576, 128) - 128 + batch_norm(128) + linear(128, 10))
EXPECTED_PARAMETERS["lenet_sequential"] = EXPECTED_PARAMETERS["lenet"]
EXPECTED_PARAMETERS["lenet_layer"] = EXPECTED_PARAMETERS["lenet"]


def trainable_parameters(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters() if p.trainable)


def random_images(name, batch=2, seed=0):
    size = model_input_size(name)
    pixels = np.random.default_rng(seed).random((batch, 1, size, size), dtype=np.float32)
    return paddle.to_tensor(pixels)


def test_every_registered_network_has_an_expected_size():
    assert model_names() == sorted(EXPECTED_PARAMETERS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_parameter_count(name):
    assert trainable_parameters(create_model(name)) == EXPECTED_PARAMETERS[name]


def test_lenet5_classic_has_the_published_size():
    assert trainable_parameters(create_model("lenet5_classic")) == 61_706


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
@pytest.mark.parametrize("num_classes", [10, 3])
def test_output_is_logits_per_image(name, num_classes):
    model = create_model(name, num_classes=num_classes)
    model.eval()
    logits = model(random_images(name))
    assert logits.shape == [2, num_classes]
    assert logits.dtype == paddle.float32


def test_input_sizes():
    assert model_input_size("lenet") == 28
    assert model_input_size("lenet5_classic") == 32
    assert model_input_size("two_scale") == 32
    assert {model_input_size(name) for name in model_names()} == {28, 32}


def test_three_lenet_styles_compute_the_same_function():
    reference = create_model("lenet")
    sequential = create_model("lenet_sequential")
    layer = create_model("lenet_layer")
    images = random_images("lenet", batch=4)
    # Fresh random initialisations differ, so equality below is due to the copy.
    assert not np.allclose(reference(images).numpy(), layer(images).numpy())

    layer.set_state_dict(reference.state_dict())  # same attribute names
    assert len(sequential.parameters()) == len(reference.parameters())
    for mine, theirs in zip(sequential.parameters(), reference.parameters()):
        assert mine.shape == theirs.shape
        mine.set_value(theirs)

    expected = reference(images).numpy()
    np.testing.assert_allclose(sequential(images).numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer(images).numpy(), expected, rtol=1e-6, atol=1e-6)


def test_two_scale_relu_logits_option():
    images = random_images("two_scale", batch=8)
    paddle.seed(1)
    plain = create_model("two_scale")(images).numpy()
    paddle.seed(1)
    clamped = create_model("two_scale", relu_logits=True)(images).numpy()
    assert (plain < 0).any(), "default logits must be free to go negative"
    np.testing.assert_allclose(clamped, np.maximum(plain, 0), rtol=1e-6, atol=1e-6)


def test_mlp_small_dropout_is_optional():
    def has_dropout(model):
        return any(isinstance(layer, paddle.nn.Dropout) for layer in model.sublayers())

    assert not has_dropout(create_model("mlp_small"))
    assert has_dropout(create_model("mlp_small", dropout=0.2))
    with pytest.raises(ConfigError, match="dropout"):
        create_model("mlp_small", dropout=1.5)


def test_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(ConfigError) as caught:
        create_model("lenett")
    message = str(caught.value)
    assert "unknown model 'lenett'" in message
    assert "did you mean 'lenet'" in message
    assert "valid names: " + ", ".join(model_names()) in message


def test_unknown_name_without_close_match_has_no_suggestion():
    with pytest.raises(ConfigError) as caught:
        model_input_size("resnet152")
    assert "did you mean" not in str(caught.value)
    assert "valid names:" in str(caught.value)


def test_unknown_argument_names_it_and_lists_accepted():
    with pytest.raises(ConfigError) as caught:
        create_model("two_scale", relu_logit=True)
    message = str(caught.value)
    assert "relu_logit" in message
    assert "accepted: num_classes, relu_logits" in message


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10", True])
def test_num_classes_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match="num_classes"):
        create_model("mlp", num_classes=bad)


def test_registering_a_taken_name_is_a_programming_error():
    with pytest.raises(ValueError, match="already registered"):
        register_model("lenet", input_size=28)(lambda num_classes=10: None)
    assert model_input_size("lenet") == 28


def test_unsupported_input_size_is_rejected_at_registration():
    with pytest.raises(ValueError, match="input_size"):
        register_model("lenet_64", input_size=64)
    assert "lenet_64" not in model_names()
