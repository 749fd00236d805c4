"""Reading paddle state-dict files without trusting them, and fitting them to a network.

`paddle.load` unpickles, and unpickling a crafted file runs arbitrary code.
State dicts are read with an unpickler that only builds the three numpy
objects a paddle state dict is made of. Paddle's own
`Model.load(skip_mismatch=True)` crashes when the first parameter is the
mismatched one, so matching weights to a network is done here too.
"""

import os
import pickle

import numpy as np

from ..errors import CheckpointError

_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}


class _Refused(pickle.UnpicklingError):
    """The file asks for a global outside the allow-list (truncation is not this)."""


class _StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _Refused(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def load_state_dict(path):
    """A paddle state dict file -> {name: numpy array or nested dict}, safely."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        with open(path, "rb") as f:
            state = _StateDictUnpickler(f).load()
    except _Refused as err:
        raise CheckpointError(f"{path} is not a safe paddle state dict ({err}); "
                              "only load checkpoints you trust and that paddle-mnist wrote") from None
    except Exception as err:  # truncated or garbage bytes raise many different types
        raise CheckpointError(f"{path} is corrupt or truncated ({type(err).__name__}); "
                              "use another checkpoint or retrain") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict")
    return state


def shapes(params):
    """{name: shape} of the arrays of a state dict (paddle's extra keys left out)."""
    return {name: tuple(np.shape(value)) for name, value in params.items()
            if isinstance(value, np.ndarray)}


def match_params(network, params, skip_mismatch=False):
    """Parameters of `params` that fit `network`, and the names skipped."""
    matched, skipped = {}, []
    for name, target in network.state_dict().items():
        if name not in params:
            problem = f"it has no parameter '{name}'"
        elif tuple(np.shape(params[name])) != tuple(target.shape):
            problem = (f"its parameter '{name}' has shape {list(np.shape(params[name]))}, "
                       f"the network expects {list(target.shape)}")
        else:
            matched[name] = params[name]
            continue
        if not skip_mismatch:
            raise CheckpointError(f"checkpoint does not fit the network: {problem}; "
                                  "is it from another model?")
        skipped.append(name)
    return matched, skipped
