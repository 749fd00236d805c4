"""hapi callbacks that make `Model.fit` resumable and honest.

`Model.fit` has no start-epoch argument, so every callback here takes the
number of epochs already done and numbers epochs and steps from there: a
resumed run continues its VisualDL curves and its checkpoint history instead
of starting at zero.
"""

import math
import time
from dataclasses import asdict, dataclass, field

import paddle
from paddle.callbacks import Callback, VisualDL

from .errors import UserError


def is_main_process():
    return paddle.distributed.get_rank() == 0


def _scalar(value):
    return float(value[0] if isinstance(value, (list, tuple)) else value)


@dataclass
class RunState:
    """What a checkpoint must remember to continue a run where it stopped."""

    epochs_done: int = 0
    steps_done: int = 0
    best_acc: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped_early: bool = False
    run_name: str = ""
    log_dir: str = ""
    history: list = field(default_factory=list)

    def to_dict(self):
        return asdict(self)


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


class RunLogger(VisualDL):
    """paddle's VisualDL callback plus the learning rate and resume offsets."""

    def __init__(self, log_dir, state):
        super().__init__(log_dir)
        self.state = state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.train_metrics = list(self.train_metrics) + ["lr"]
        self.train_step = self.state.steps_done

    def on_epoch_begin(self, epoch=None, logs=None):
        super().on_epoch_begin(epoch, logs)
        self.epoch = self.state.epochs_done  # eval curves are indexed by epochs done

    def on_train_batch_end(self, step, logs=None):
        logs = dict(logs or {}, lr=self.model._optimizer.get_lr())
        super().on_train_batch_end(step, logs)

    def close(self):
        if hasattr(self, "writer"):
            self.writer.close()
            del self.writer


class DivergenceGuard(Callback):
    """Stop at the first non-finite loss, before anything is saved from it."""

    def __init__(self, state, checkpoint):
        super().__init__()
        self.state, self.checkpoint = state, checkpoint

    def on_train_batch_end(self, step, logs=None):
        loss = _scalar(logs["loss"])
        if not math.isfinite(loss):
            kept = (f"the checkpoint {self.checkpoint} (epoch {self.state.epochs_done}) is "
                    "unchanged" if self.state.epochs_done else "no checkpoint was written")
            raise TrainingDiverged(
                f"training diverged: loss is {loss} at epoch {self.state.epochs_done + 1}, "
                f"step {step + 1}; lower optimizer.learning_rate (now "
                f"{self.model._optimizer.get_lr():g}); {kept}")


class EpochRecorder(Callback):
    """After each evaluation: history, last and best checkpoint, early stopping.

    `save(best: bool)` writes the checkpoint; it is called on the main process
    only, after the state has been updated, so the sidecar describes the
    weights next to it.
    """

    def __init__(self, state, save, patience):
        super().__init__()
        self.state, self.save, self.patience = state, save, patience

    def on_epoch_begin(self, epoch=None, logs=None):
        self.started = time.perf_counter()
        self.steps = 0

    def on_train_batch_end(self, step, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        self.train_logs = {"train_loss": _scalar(logs["loss"]), "train_acc": _scalar(logs["acc"])}
        self.lr = self.model._optimizer.get_lr()  # the rate this epoch trained at
        self.train_seconds = time.perf_counter() - self.started

    def on_eval_end(self, logs=None):
        state = self.state
        state.epochs_done += 1
        state.steps_done += self.steps
        acc = _scalar(logs["acc"])
        record = {"epoch": state.epochs_done, **self.train_logs,
                  "eval_loss": _scalar(logs["loss"]), "eval_acc": acc, "lr": self.lr,
                  "train_seconds": round(self.train_seconds, 3),
                  "seconds": round(time.perf_counter() - self.started, 3)}
        state.history.append(record)
        improved = acc > state.best_acc
        if improved:
            state.best_acc, state.best_epoch, state.bad_epochs = acc, state.epochs_done, 0
        else:
            state.bad_epochs += 1
        if self.patience and state.bad_epochs >= self.patience:
            state.stopped_early = True
            self.model.stop_training = True
        if is_main_process():
            self.save(best=improved)
