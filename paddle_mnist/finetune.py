"""Continue training a checkpoint at a lower learning rate, into a new checkpoint.

Fine-tuning is not resuming: the run keeps only the weights. The optimizer is
built fresh from the config at one tenth of the checkpoint's learning rate
(paddle's `Model.load` would restore the old optimizer state, and with it the
old rate), the epoch count starts again, and everything is written to a new
prefix with its own VisualDL run, so the source checkpoint is never touched.
The new sidecar records the source (`source: {prefix, epoch}`).

Weights go through `checkpoint.match_params`, never `Model.load`: with
`skip_mismatch=True` paddle's loader crashes when the first parameter is the
mismatched one, and it unpickles without restrictions.
"""

import json
import os
from dataclasses import dataclass, field

import paddle

from . import checkpoint as ckpt
from . import engine
from .config import from_dict
from .data import load_splits
from .errors import ConfigError
from .models import create_model

LR_FACTOR = 0.1
DEFAULT_EPOCHS = 2


@dataclass
class FineTuneJob:
    source: str            # checkpoint prefix the weights come from
    source_epoch: int
    source_lr: float
    config: object         # the resolved Config of the fine-tune run
    network: object        # paddle.nn.Layer holding the matched source weights
    skipped: list = field(default_factory=list)  # parameters left at their fresh init

    @property
    def lr(self):
        return self.config.optimizer.learning_rate

    def evaluate_before(self):
        """{'acc', 'loss', 'samples'} of the starting weights on the test set."""
        engine.select_device(self.config.train.device)
        model = engine.build_model(self.config, self.network)
        model.prepare(loss=paddle.nn.CrossEntropyLoss(), metrics=paddle.metric.Accuracy())
        test = engine.datasets(self.config, load_splits(self.config.data,
                                                        self.config.train.seed))["test"]
        return engine.evaluate_model(model, test, self.config.train.eval_batch_size)

    def run(self):
        """Train; returns engine.TrainResult (its `.test` is the accuracy after)."""
        return engine.train(self.config, network=self.network,
                            source={"prefix": self.source, "epoch": self.source_epoch})


def _same_file(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def plan(prefix, *, lr=None, epochs=None, output=None, skip_mismatch=False, overrides=()):
    """Load the checkpoint and resolve the fine-tune run; nothing is trained yet.

    Precedence for every setting: defaults (rate / 10, 2 epochs, output
    `<prefix>_finetune`) < `overrides` (-o) < the explicit arguments.
    """
    source = ckpt.load_checkpoint(prefix, with_optimizer=False)
    saved = from_dict(source.meta["config"])
    run_name = f"{saved.output.run_name or saved.model.name}-finetune"
    defaults = [f"optimizer.learning_rate={saved.optimizer.learning_rate * LR_FACTOR!r}",
                f"train.epochs={DEFAULT_EPOCHS}",
                f"output.checkpoint={json.dumps(source.prefix + '_finetune')}",
                f"output.run_name={json.dumps(run_name)}"]
    explicit = [f"optimizer.learning_rate={float(lr)!r}"] if lr is not None else []
    explicit += [f"train.epochs={int(epochs)}"] if epochs is not None else []
    explicit += [f"output.checkpoint={json.dumps(output)}"] if output is not None else []
    config = from_dict(source.meta["config"], defaults + list(overrides) + explicit)
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
    return FineTuneJob(source.prefix, source.meta["state"]["epochs_done"],
                       saved.optimizer.learning_rate, config, network, skipped)
