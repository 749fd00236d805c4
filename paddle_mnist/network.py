"""A trained network, ready to run: the layer under everything that uses a model.

Export, the predictors, `tools/predict.py`, the web server and the reports
all need the same three things: which input a network takes, the network
rebuilt from a checkpoint prefix with its weights matched, and a forward pass
on a numpy batch. None of them trains, so this module imports neither the
engine nor its callbacks, optimizers, run lock or VisualDL.

A checkpoint written by plain PaddlePaddle code (`paddle.Model.save`, no
sidecar) is accepted too: the network is the one named with
`-o model.name=...`, or else the one registered network whose parameter
names and shapes match the file exactly, and the config is that network's
defaults. What was assumed is said in one line.
"""

import sys
from dataclasses import dataclass

import numpy as np
import paddle
from paddle.static import InputSpec

from . import checkpoint as ckpt
from .config import Config, from_dict
from .errors import CheckpointError, ConfigError
from .yamlfile import short
from .models import create_model, model_input_size, model_names, weights_family


def select_device(spec):
    """'auto' picks the GPU when this paddle build has one, else the CPU."""
    if spec == "auto":
        has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        spec = "gpu" if has_gpu else "cpu"
    try:
        return paddle.set_device(spec)
    except (ValueError, RuntimeError) as err:
        raise ConfigError(f"train.device={short(spec)} is not usable here ({str(err).splitlines()[0]}); "
                          "use auto or cpu") from None


def input_size_of(config):
    """The side of the square input the configured network takes (28 or 32)."""
    native = model_input_size(config.model.name)
    wanted = config.data.input_size or native
    if wanted != native:
        raise ConfigError(f"model '{config.model.name}' expects {native}x{native} input; "
                          f"set data.input_size to {native} or leave it unset")
    return native


def build_network(config):
    return create_model(config.model.name, **config.model.args)


def paddle_model(config, network):
    """paddle.Model around `network`, with the InputSpecs of the configured input."""
    size = input_size_of(config)
    inputs = InputSpec([None, 1, size, size], "float32", "image")
    labels = InputSpec([None, 1], "int64", "label")
    return paddle.Model(network, inputs=inputs, labels=labels)


@dataclass
class LoadedNetwork:
    checkpoint: ckpt.Checkpoint
    config: Config
    network: paddle.nn.Layer   # in eval mode, weights loaded

    @property
    def epoch(self):
        return self.checkpoint.epoch


def load_network(prefix, overrides=()):
    """The network saved at a checkpoint prefix, with its config (plus overrides)."""
    checkpoint = ckpt.load_checkpoint(prefix, with_optimizer=False, allow_plain=True)
    if checkpoint.sidecar is not None:
        config = from_dict(checkpoint.sidecar.config, overrides)
    else:
        config = plain_checkpoint_config(checkpoint, overrides)
    select_device(config.train.device)
    network = build_network(config)
    network.set_state_dict(ckpt.match_params(network, checkpoint.params)[0])
    network.eval()
    return LoadedNetwork(checkpoint, config, network)


def plain_checkpoint_config(checkpoint, overrides=()):
    """The config of weights saved without a sidecar: the named network's (-o
    model.name=...) or the one registered network they fit, with its defaults."""
    config = from_dict({}, overrides)
    named = any(text.split("=", 1)[0].strip() == "model.name" for text in overrides)
    if not named:
        config.model.name = recognise(checkpoint.params, checkpoint.prefix)
    print(f"note: {checkpoint.prefix} has no sidecar (saved by plain paddle code?); assuming "
          f"model '{config.model.name}' with the default config (input "
          f"{input_size_of(config)}x{input_size_of(config)}, mean {config.data.mean:g}, std "
          f"{config.data.std:g}); -o model.name=... and -o data.* change that", file=sys.stderr)
    return config


def recognise(params, prefix):
    """The registered network whose state dict has exactly these names and shapes."""
    wanted = ckpt.shapes(params)
    fits = []
    for name in model_names():
        network = create_model(name)
        if {key: tuple(value.shape) for key, value in network.state_dict().items()} == wanted:
            fits.append(weights_family(name))
    fits = sorted(set(fits))
    if len(fits) == 1:
        return fits[0]
    which = (f"they fit {', '.join(fits)}" if fits else
             "they fit none of the registered networks with default arguments")
    raise CheckpointError(f"{prefix}.pdparams has no sidecar and {which}; name the network "
                          f"with -o model.name=NAME (one of: {', '.join(model_names())})")


def forward(network, batch):
    """float32 numpy [N, 1, S, S] -> numpy logits [N, classes], no gradients."""
    with paddle.no_grad():
        return network(paddle.to_tensor(np.ascontiguousarray(batch, dtype=np.float32))).numpy()


def num_classes(network, input_size):
    return forward(network, np.zeros([1, 1, input_size, input_size], np.float32)).shape[1]
