"""What a training run is, decided before paddle is even imported.

`plan` is the one place that answers "start or resume, with which config":
the train tool (a config file, or `--resume PREFIX`), fine-tuning (a derived
config and starting weights) and sweeps (a point's config, continued from its
own checkpoint when that was made by the same config) all call it. It reads
configs and sidecars only, so a mistake in either is reported at once, and it
writes nothing.
"""

import json
import os
from dataclasses import dataclass
from typing import Optional, Tuple

from . import checkpoint as ckpt
from .config import Config, from_dict, load_config, without_dashboard
from .errors import CheckpointError, ConfigError

SCHEDULES_OVER_EPOCHS = ("cosine", "onecycle")  # laid out for train.epochs when the run starts


@dataclass
class StartFrom:
    """Weights a run starts from instead of a fresh initialisation (fine-tuning)."""

    network: object            # a paddle.nn.Layer holding the weights
    source: ckpt.Source
    numbered_from: Tuple[int, int] = (0, 0)  # (epochs, steps) VisualDL continues from


@dataclass
class RunPlan:
    config: Config
    resume: Optional[ckpt.Checkpoint] = None   # continue this run (optimizer, epoch, history)
    start_from: Optional[StartFrom] = None


def _overridden(overrides, key):
    return any(text.split("=", 1)[0].strip() == key for text in overrides)


def plan(config_file=None, overrides=(), *, resume=None, config=None, start_from=None,
         continue_if_same=False):
    """What to train: a config file (+ -o), an already resolved `config`, or the
    checkpoint prefix `resume` (its saved config + -o, written back to the same
    prefix). `continue_if_same` resumes the config's own checkpoint when it was
    made by this very config (sweep points). Nothing is trained or written here.
    """
    checkpoint = None
    if resume:
        checkpoint = ckpt.load_checkpoint(resume)
        if ckpt.OPTIMIZER not in checkpoint.sidecar.files:
            raise CheckpointError(
                f"{checkpoint.prefix} holds weights only (a best-epoch checkpoint has no "
                f"optimizer state), so it cannot be resumed; resume the run's last checkpoint "
                f"(e.g. {checkpoint.prefix.removesuffix('_best')}) or fine-tune from this one: "
                f"python tools/finetune.py --resume {checkpoint.prefix}")
        config = from_dict(checkpoint.sidecar.config, overrides)
        if not _overridden(overrides, "output.checkpoint"):
            # where it was resumed from, not the saved (cwd-relative) path; the prefix
            # asked for even when its interrupted save made loading fall back to .prev
            config.output.checkpoint = ckpt.normalize_prefix(resume)
        _check_extension(checkpoint, config)
    elif config is None:
        config = load_config(config_file, overrides)
    elif continue_if_same:
        checkpoint = _same_config_checkpoint(config)
    return RunPlan(config, checkpoint, start_from)


def _check_extension(checkpoint, config):
    """A schedule laid out over train.epochs has ended (at 0 for cosine) when the run
    has; training more epochs would report work done at a rate of nothing."""
    saved = from_dict(checkpoint.sidecar.config)
    schedule = saved.optimizer.lr_schedule.name
    if config.train.epochs != saved.train.epochs and schedule in SCHEDULES_OVER_EPOCHS:
        raise ConfigError(
            f"{checkpoint.prefix} was trained with a {schedule} schedule laid out for "
            f"{saved.train.epochs} epochs, so train.epochs cannot change on resume (its rate "
            f"{'has reached 0' if schedule == 'cosine' else 'is near 0'} at the end); to train "
            f"more, fine-tune it: python tools/finetune.py --resume {checkpoint.prefix} "
            f"--epochs N")


def _same_config_checkpoint(config):
    prefix = config.output.checkpoint
    if not os.path.isfile(prefix + ckpt.META):
        return None
    try:
        checkpoint = ckpt.load_checkpoint(prefix)
    except CheckpointError:
        return None  # torn or foreign: train afresh
    # what a run shows in VisualDL does not change what it trained
    same = without_dashboard(checkpoint.sidecar.config) == without_dashboard(
        json.loads(json.dumps(config.to_dict())))
    return checkpoint if same else None


