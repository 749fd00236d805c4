"""Continue training a checkpoint at a lower learning rate, into a new checkpoint.

Fine-tuning is not resuming: the run keeps only the weights. The optimizer is
built fresh from the config at one tenth of the checkpoint's learning rate
(paddle's `Model.load` would restore the old optimizer state, and with it the
old rate), everything is written to a new prefix with its own VisualDL run,
so the source checkpoint is never touched, and the new sidecar records the
source (`source: {prefix, epoch}`). The VisualDL run is named after the
source's and numbers its epochs and steps on from the source's (a fine-tune
of a 5-epoch run logs epochs 6 and 7), so its curves continue the source's;
its own checkpoint still counts its own epochs, for resuming it. A checkpoint
saved by plain PaddlePaddle code (no sidecar) can be fine-tuned too; see
`network.load_network`.

Weights go through `checkpoint.match_params`, never `Model.load`: with
`skip_mismatch=True` paddle's loader crashes when the first parameter is the
mismatched one, and it unpickles without restrictions.
"""

import json
import os
from dataclasses import dataclass, field

from . import checkpoint as ckpt
from . import engine, planning
from .config import from_dict
from .data import load_splits
from .errors import ConfigError
from .models import create_model
from .network import paddle_model, plain_checkpoint_config, select_device
from .scoring import datasets_for, score_model

LR_FACTOR = 0.1
DEFAULT_EPOCHS = 2


@dataclass
class FineTuneJob:
    plan: planning.RunPlan  # the fine-tune run: its config and the starting weights
    source_lr: float
    skipped: list = field(default_factory=list)  # parameters left at their fresh init

    @property
    def config(self):
        return self.plan.config

    @property
    def source(self):
        return self.plan.start_from.source.prefix

    @property
    def source_epoch(self):
        return self.plan.start_from.source.epoch

    @property
    def lr(self):
        return self.config.optimizer.learning_rate

    def evaluate_before(self):
        """{'acc', 'loss', 'samples'} of the starting weights on the test set."""
        select_device(self.config.train.device)
        # A network of its own: under paddle.distributed.launch, paddle.Model wraps its
        # network in DataParallel, whose gradient hooks stay on the parameters when that
        # Model is gone, and training the same network afterwards segfaults in them.
        network = create_model(self.config.model.name, **self.config.model.args)
        network.set_state_dict(self.plan.start_from.network.state_dict())
        model = paddle_model(self.config, network)
        test = datasets_for(self.config, load_splits(self.config.data,
                                                     self.config.train.seed))["test"]
        return score_model(model, test, self.config.train.eval_batch_size)

    def run(self):
        """Train; returns engine.TrainResult (its `.test` is the accuracy after)."""
        return engine.train(self.plan)


def _same_file(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def extra_sources(sources, share):
    """`--extra-data` values -> the `data.extra` override: folders by `path`, anything
    else (a SQLite file, a postgresql:// URL) by `db`."""
    entries = [{"path" if os.path.isdir(source) else "db": source, "share": share}
               for source in sources]
    return [f"data.extra={json.dumps(entries)}"] if entries else []


def plan(prefix, *, lr=None, epochs=None, output=None, skip_mismatch=False, overrides=(),
         extra_data=(), extra_share=0.25):
    """Load the checkpoint and resolve the fine-tune run; nothing is trained yet.

    Precedence for every setting: defaults (rate / 10, 2 epochs, output
    `<prefix>_finetune`) < `overrides` (-o) < the explicit arguments.
    `extra_data` are folders or record databases to train on beside MNIST.
    """
    source = ckpt.load_checkpoint(prefix, with_optimizer=False, allow_plain=True)
    saved = (from_dict(source.sidecar.config) if source.sidecar
             else plain_checkpoint_config(source, overrides))
    state = source.sidecar.state if source.sidecar else None
    run_name = f"{state.run_name if state and state.run_name else saved.model.name}-finetune"
    defaults = [f"optimizer.learning_rate={saved.optimizer.learning_rate * LR_FACTOR!r}",
                f"train.epochs={DEFAULT_EPOCHS}",
                f"output.checkpoint={json.dumps(source.prefix + '_finetune')}",
                f"output.run_name={json.dumps(run_name)}"]
    explicit = [f"optimizer.learning_rate={float(lr)!r}"] if lr is not None else []
    explicit += [f"train.epochs={int(epochs)}"] if epochs is not None else []
    explicit += [f"output.checkpoint={json.dumps(output)}"] if output is not None else []
    explicit += extra_sources(extra_data, extra_share)
    config = from_dict(saved.to_dict(), defaults + list(overrides) + explicit)
    if config.optimizer.learning_rate <= 0:
        raise ConfigError(f"the fine-tune learning rate must be > 0, got "
                          f"{config.optimizer.learning_rate:g}")
    target = ckpt.normalize_prefix(config.output.checkpoint)
    config.output.checkpoint = target
    for written in (target, target + "_best"):
        if _same_file(written + ckpt.PARAMS, source.prefix + ckpt.PARAMS):
            raise ConfigError(f"fine-tuning would overwrite its source checkpoint "
                              f"{source.prefix}; pass another --output, e.g. "
                              f"{source.prefix}_finetune")
    engine.seed_everything(config.train.seed)  # the init of skipped parameters is reproducible
    network = create_model(config.model.name, **config.model.args)
    matched, skipped = ckpt.match_params(network, source.params, skip_mismatch=skip_mismatch)
    network.set_state_dict({**network.state_dict(), **matched})  # skipped keep their init
    # a plain paddle checkpoint says nothing of its epochs: the fine-tune starts at 0
    numbered_from = ((state.epoch_offset + state.epochs_done,
                      state.step_offset + state.steps_done) if state else (0, 0))
    start = planning.StartFrom(network, ckpt.Source(source.prefix, source.epoch or 0),
                               numbered_from)
    return FineTuneJob(planning.plan(config=config, start_from=start),
                       saved.optimizer.learning_rate, skipped)
