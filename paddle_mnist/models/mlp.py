"""Fully connected baselines: what MNIST accuracy looks like without convolutions."""

from paddle import nn

from paddle_mnist.errors import ConfigError
from paddle_mnist.yamlfile import short
from paddle_mnist.models.registry import register_model


@register_model("mlp", input_size=28)
def mlp(num_classes: int = 10) -> nn.Layer:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, num_classes),
    )


@register_model("mlp_small", input_size=28)
def mlp_small(num_classes: int = 10, dropout: float = 0.0) -> nn.Layer:
    """The Keras beginner-tutorial network (which uses dropout=0.2)."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
        raise ConfigError(f"model 'mlp_small': dropout must be in [0, 1), got {short(dropout)}")
    hidden = [nn.Linear(784, 128), nn.ReLU()]
    if dropout > 0:
        hidden.append(nn.Dropout(dropout))
    return nn.Sequential(nn.Flatten(), *hidden, nn.Linear(128, num_classes))
