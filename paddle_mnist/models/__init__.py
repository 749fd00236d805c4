"""Networks for MNIST, chosen by name.

Each family module is imported here explicitly so its `@register_model`
decorators run; a new family only needs a module and one import line below.
"""

from paddle_mnist.models.registry import (
    create_model,
    model_input_size,
    model_names,
    register_model,
    weights_family,
)
from paddle_mnist.models import cnn, fast_cnn, lenet, mlp, two_scale  # noqa: F401  (registers)

__all__ = ["create_model", "model_input_size", "model_names", "register_model", "weights_family"]
