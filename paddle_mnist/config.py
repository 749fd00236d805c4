"""The one place every setting and its default lives, and the only way in.

A YAML file and `-o section.key=value` overrides (read by `configfiles`) are
merged over the defaults below, then checked: an unknown key (with a close-match suggestion), a wrong
type or an out-of-range value is a `ConfigError` before any work starts. This
module knows nothing about paddle, so it is cheap to import and to test.
"""

import copy
import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field
from typing import List, Optional

from .configfiles import apply_overrides, find_config, merge, read_yaml
from .errors import ConfigError
from .yamlfile import short

# The data pipeline feeds raw 28x28 MNIST or the 2-pixel-padded 32x32 images the
# 1998 LeNet-5 was designed for; the model registry accepts only these too.
INPUT_SIZES = (28, 32)
OPTIMIZERS = ("adam", "adamw", "sgd", "momentum")   # paddle_mnist.optim builds each
SCHEDULES = ("constant", "step", "cosine", "onecycle")
MAX_CLASSES = 10_000     # classes a network may have (models.create_model checks it)


def _opt(default, **checks):
    """A field with a default and checks: min, max (inclusive), choices."""
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=checks)
    return field(default=default, metadata=checks)


@dataclass
class ModelConfig:
    name: str = "lenet"
    args: dict = _opt({})            # keyword arguments of the network factory


@dataclass
class AugmentConfig:
    """Random distortions of each training batch (data/transforms.py); `enabled`
    switches them all, each of the others is off at 0."""
    enabled: bool = False
    degrees: float = _opt(10.0, min=0, max=180)
    translate: float = _opt(0.1, min=0, max=0.5)   # fraction of the image side
    scale: List[float] = _opt([0.95, 1.05])
    shear: float = _opt(0.0, min=0, max=45)        # slant, degrees either way
    aspect: float = _opt(0.0, min=0, max=1)        # width/height ratio x up to 1+aspect or /
    thickness: List[float] = _opt([0.0, 0.0])      # pen width change range, pixels (< 0 thins)
    elastic: float = _opt(0.0, min=0, max=5)       # smooth displacement, pixels (std)
    blur: float = _opt(0.0, min=0, max=3)          # Gaussian blur, largest sigma in pixels
    binarize: float = _opt(0.0, min=0, max=1)      # share of images thresholded to hard ink


@dataclass
class ExtraSourceConfig:
    """Labelled images trained on beside MNIST (paddle_mnist.data.extra): a folder, read
    as `tools/eval.py --images` reads one, or the service's record database (its
    labelled records). Give one of `path` and `db`."""
    path: Optional[str] = None
    db: Optional[str] = None                        # a SQLite file or postgresql://...
    share: float = _opt(0.25, min=0.01, max=0.9)    # of every training batch, the rest MNIST
    holdout: float = _opt(0.2, min=0, max=0.9)      # never trained on: the gate's test set
    split: str = _opt("random", choices=("random", "time"))  # time: the newest are held out
    seed: int = _opt(0, min=0, max=2**32 - 1)       # of the random split
    until: Optional[int] = _opt(None, min=1)        # db: records up to this id (a snapshot)


@dataclass
class DataConfig:
    root: Optional[str] = None       # else $PADDLE_MNIST_DATA, else paddle's downloader
    input_size: Optional[int] = _opt(None, choices=(None, *INPUT_SIZES))  # None: the net's own
    mean: float = 127.5
    std: float = _opt(127.5, min=1e-6)
    augment: AugmentConfig = _opt(AugmentConfig())
    val_split: int = _opt(0, min=0, max=59000)  # training images held out for model selection
    extra: List[ExtraSourceConfig] = _opt([])    # users' own labelled images, mixed in


@dataclass
class TrainConfig:
    epochs: int = _opt(5, min=1)
    batch_size: int = _opt(64, min=1)
    eval_batch_size: int = _opt(1000, min=1)
    seed: int = _opt(42, min=0, max=2**32 - 1)   # numpy and paddle seeds are 32-bit
    device: str = "auto"             # auto (GPU when paddle has one), cpu, gpu, gpu:N
    early_stopping_patience: int = _opt(0, min=0)   # epochs without improvement; 0 = off
    max_steps_per_epoch: Optional[int] = _opt(None, min=1)  # cap for quick runs
    log_freq: int = _opt(100, min=1)
    scale_lr_with_ranks: bool = False   # multiply the learning rate by the number of ranks


@dataclass
class ScheduleConfig:
    name: str = _opt("constant", choices=SCHEDULES)
    step_size: int = _opt(5, min=1)              # step: epochs between decays
    gamma: float = _opt(0.1, min=0, max=1)       # step: decay factor
    warmup_epochs: float = _opt(0.0, min=0)      # linear warm-up before the schedule
    pct_start: float = _opt(0.25, min=0, max=1)  # onecycle: fraction of steps rising


@dataclass
class OptimizerConfig:
    name: str = _opt("adam", choices=OPTIMIZERS)
    learning_rate: float = _opt(0.001, min=0)
    momentum: float = _opt(0.9, min=0, max=1)   # used by the momentum optimizer only
    nesterov: bool = False                      # momentum optimizer: Nesterov update
    weight_decay: float = _opt(0.0, min=0)
    lr_schedule: ScheduleConfig = _opt(ScheduleConfig())


@dataclass
class OutputConfig:
    checkpoint: str = "output/mnist"  # prefix: .pdparams, .pdopt, .meta.json
    log_dir: str = "logs"             # VisualDL root; each run gets logs/<run_name>
    run_name: Optional[str] = None    # None: <config name>-<timestamp>


@dataclass
class VisualDLConfig:
    """What a run shows in VisualDL (paddle_mnist.dashboard); nothing here changes
    the weights, so sweeps and `continue_if_same` ignore this section."""

    enabled: bool = True              # False: no VisualDL run at all
    scalars: bool = True              # train loss/accuracy/rate; eval, epoch time, images/s
    scalars_every: int = _opt(10, min=1)      # steps between train/* points (loss: their mean)
    images: bool = True               # augmented samples at the start; mistakes, confusion matrix
    images_every: int = _opt(5, min=1)        # evaluations between mistake/confusion images
    pr_curves: bool = True            # precision-recall per digit after each evaluation
    roc_curves: bool = True           # ROC per digit, from the same counts
    curves_every: int = _opt(1, min=1)        # evaluations between PR/ROC curves
    histograms: bool = True           # each layer's weights
    gradients: bool = False           # ... and gradients (of the epoch's first batch)
    histograms_every: int = _opt(1, min=1)    # epochs between histograms
    embeddings: bool = True           # penultimate-layer features of test digits, at the end
    embedding_samples: int = _opt(2000, min=10, max=10000)
    graph: bool = True                # the network's structure (Graphs tab)
    hparams: bool = True              # key settings + final metrics (HyperParameters tab)
    hparam_keys: List[str] = _opt([])  # more dotted keys to record; sweeps add the keys they vary


@dataclass
class ReferenceConfig:
    """What the material a recipe reproduces reports (docs/results.md compares); no
    effect on training. Kept in the config so it travels with every checkpoint."""

    accuracy: Optional[float] = _opt(None, min=0, max=1)            # test accuracy reported
    finetuned_accuracy: Optional[float] = _opt(None, min=0, max=1)  # ... after fine-tuning
    source: str = ""                                                # where it is reported


@dataclass
class Config:
    model: ModelConfig = _opt(ModelConfig())
    data: DataConfig = _opt(DataConfig())
    train: TrainConfig = _opt(TrainConfig())
    optimizer: OptimizerConfig = _opt(OptimizerConfig())
    output: OutputConfig = _opt(OutputConfig())
    visualdl: VisualDLConfig = _opt(VisualDLConfig())
    reference: ReferenceConfig = _opt(ReferenceConfig())

    def to_dict(self):
        return dataclasses.asdict(self)


def _fields(cls):
    hints = typing.get_type_hints(cls)
    return {f.name: (hints[f.name], f) for f in dataclasses.fields(cls)}


def _unknown_key(key, known, where):
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{where}{close[0]}'?)" if close else ""
    raise ConfigError(f"unknown config key '{where}{key}'{hint}; valid keys here: "
                      f"{', '.join(sorted(known))}")


def _coerce(value, kind, name):
    """Check `value` against the annotated type; returns the value to store."""
    if typing.get_origin(kind) is typing.Union:       # Optional[X]
        if value is None:
            return None
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    if dataclasses.is_dataclass(kind):
        return _build(kind, value, name + ".")
    if kind is float and isinstance(value, str):
        try:  # YAML 1.1 reads 1e-3 (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if typing.get_origin(kind) is list:
        if not isinstance(value, list):
            raise ConfigError(f"config key '{name}' must be a list, got {short(value)}")
        item = typing.get_args(kind)[0]
        return [_coerce(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"config key '{name}' must be {kind.__name__}, got {short(value)}")
    if kind is float and not math.isfinite(value):  # .nan / .inf are valid YAML floats
        raise ConfigError(f"config key '{name}' is {value}; give a finite number")
    return value


def _check_range(value, checks, name):
    if "choices" in checks and value not in checks["choices"]:
        choices = ", ".join(str(c) for c in checks["choices"] if c is not None)
        raise ConfigError(f"config key '{name}' is {short(value)}; choose one of: {choices}")
    if value is None or isinstance(value, bool):
        return
    if "min" in checks and value < checks["min"]:
        raise ConfigError(f"config key '{name}' is {value}; it must be >= {checks['min']}")
    if "max" in checks and value > checks["max"]:
        raise ConfigError(f"config key '{name}' is {value}; it must be <= {checks['max']}")


def _build(cls, data, where=""):
    if not isinstance(data, dict):
        raise ConfigError(f"config section '{where.rstrip('.') or 'top level'}' must be "
                          f"a mapping of keys to values, got {short(data)}")
    known = _fields(cls)
    values = {}
    for key, value in data.items():
        if key not in known:
            _unknown_key(str(key), known, where)
        kind, spec = known[key]
        values[key] = _coerce(value, kind, where + key)
        _check_range(values[key], spec.metadata, where + key)
    return cls(**values)


def lookup(data, dotted):
    """The value at a dotted key of a config dict; ConfigError (with a suggestion) if
    there is no such key."""
    node, where = data, ""
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            _unknown_key(part, node if isinstance(node, dict) else {}, where)
        node, where = node[part], f"{where}{part}."
    return node


def without_dashboard(data):
    """A config dict minus the sections that cannot change the trained weights, to
    tell whether a checkpoint or a sweep record was made by "the same" config."""
    return {key: value for key, value in data.items() if key != "visualdl"}


def _check_consistency(config):
    scale = config.data.augment.scale
    if len(scale) != 2 or not 0 < scale[0] <= scale[1]:
        raise ConfigError(f"config key 'data.augment.scale' is {scale}; give two numbers "
                          "[low, high] with 0 < low <= high, e.g. [0.95, 1.05]")
    thickness = config.data.augment.thickness
    if len(thickness) != 2 or not -2 <= thickness[0] <= thickness[1] <= 2:
        raise ConfigError(f"config key 'data.augment.thickness' is {thickness}; give two "
                          "numbers [low, high] of pixels with -2 <= low <= high <= 2, "
                          "e.g. [-0.5, 1.0]")
    for index, source in enumerate(config.data.extra):
        if (source.path is None) == (source.db is None):
            raise ConfigError(f"config key 'data.extra[{index}]' needs exactly one of path (a "
                              "labelled folder) and db (the service's record database)")
    if sum(source.share for source in config.data.extra) > 0.9:
        raise ConfigError("the shares of data.extra add up to more than 0.9; keep at least a "
                          "tenth of every batch for MNIST, so it is not forgotten")
    data = config.to_dict()
    for key in config.visualdl.hparam_keys:
        if isinstance(lookup(data, key), dict):
            raise ConfigError(f"config key 'visualdl.hparam_keys' lists {key!r}, a section; "
                              "name one setting in it, e.g. optimizer.learning_rate")
    return config


def from_dict(data, overrides=()):
    """Defaults <- data <- overrides, validated into a Config."""
    if not isinstance(data, dict):
        raise ConfigError(f"a config must be a mapping of sections (model, data, train, "
                          f"optimizer, output), not {type(data).__name__}")
    merged = merge(Config().to_dict(), data)
    return _check_consistency(_build(Config, apply_overrides(merged, overrides)))


def load_config(path=None, overrides=()):
    """The resolved, validated Config for a YAML file plus -o overrides."""
    data = read_yaml(path) if path else {}
    config = from_dict(data, overrides)
    if config.output.run_name is None and path:
        config.output.run_name = os.path.splitext(os.path.basename(find_config(path)))[0]
    return config
