"""One explicit name -> network table, so configs and tools pick nets by name.

Family modules register their factories with `@register_model`; the rest of
the project only ever calls `create_model`, `model_names` and
`model_input_size`, so adding a network never touches the code that uses it.
Mistakes in a config (unknown name, unknown argument) become one-line
`ConfigError`s that list what would have been accepted.
"""

import difflib
import inspect
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import paddle

from paddle_mnist.config import INPUT_SIZES, MAX_CLASSES
from paddle_mnist.errors import ConfigError
from paddle_mnist.yamlfile import short


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., paddle.nn.Layer]
    input_size: int
    same_weights_as: Optional[str]


_REGISTRY: Dict[str, _Entry] = {}


def register_model(name: str, *, input_size: int, same_weights_as: Optional[str] = None):
    """Decorator: register `factory(**kwargs) -> paddle.nn.Layer` under `name`.

    `input_size` is the side length of the square single-channel input the
    network expects. `same_weights_as` names a network that computes the same
    function from the same state dict (the same net written another way), so
    recognising a bare weights file does not call the two ambiguous.
    Registering a name twice is a programming error.
    """
    if input_size not in INPUT_SIZES:
        raise ValueError(
            f"model {name!r}: input_size must be one of {INPUT_SIZES}, got {input_size!r}"
        )

    def decorator(factory):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = _Entry(factory=factory, input_size=input_size,
                                 same_weights_as=same_weights_as)
        return factory

    return decorator


def model_names() -> List[str]:
    return sorted(_REGISTRY)


def _entry(name: str) -> _Entry:
    if name in _REGISTRY:
        return _REGISTRY[name]
    valid = ", ".join(model_names())
    close = difflib.get_close_matches(str(name), model_names(), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ConfigError(f"unknown model '{name}'{hint}; valid names: {valid}")


def model_input_size(name: str) -> int:
    return _entry(name).input_size


def weights_family(name: str) -> str:
    """The network whose state dict `name`'s is (itself unless registered as a twin)."""
    return _entry(name).same_weights_as or name


def _accepted_arguments(factory) -> List[str]:
    return [
        param.name
        for param in inspect.signature(factory).parameters.values()
        if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
    ]


def create_model(name: str, **kwargs) -> paddle.nn.Layer:
    """Build the network registered as `name`, passing `kwargs` to its factory."""
    factory = _entry(name).factory
    accepted = _accepted_arguments(factory)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ConfigError(
            f"model '{name}' does not take argument(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted)}"
        )
    num_classes = kwargs.get("num_classes", 10)
    # bool is an int subclass; `num_classes: true` in YAML is a mistake, not 1.
    if (isinstance(num_classes, bool) or not isinstance(num_classes, int)
            or not 1 <= num_classes <= MAX_CLASSES):
        raise ConfigError(
            f"model '{name}': num_classes must be an integer from 1 to {MAX_CLASSES:,}, "
            f"got {short(num_classes)}"
        )
    try:
        return factory(**kwargs)
    except (TypeError, ValueError, AssertionError, RuntimeError, MemoryError) as err:
        # paddle's layers check their own arguments (sizes, kernels) with these
        problem = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"model '{name}' cannot be built from model.args "
                          f"{short(kwargs)}: {short(problem, 200)}") from None
