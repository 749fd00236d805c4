"""hapi callbacks that make `Model.fit` resumable and honest.

`Model.fit` has no start-epoch argument, so every callback here takes the
number of epochs already done and numbers epochs and steps from there: a
resumed run continues its checkpoint history instead of starting at zero
(and its VisualDL run: `paddle_mnist.dashboard`).
"""

import math
import signal
import sys
import threading
import time

import paddle
from paddle.callbacks import Callback

from .checkpoint import EpochRecord
from .distributed import is_main_process, mean_over_ranks
from .errors import TrainingDiverged
from .metrics import MEAN_LOSS


def _scalar(value):
    return float(value[0] if isinstance(value, (list, tuple)) else value)


# Ten times the loss of guessing uniformly among the 10 digits. Adam's steps
# are bounded by the learning rate, so with a huge rate the weights explode
# while the loss stays finite (~60); training is just as lost as with a NaN.
EXPLODED_LOSS = 10 * math.log(10)
EXPLODED_STEPS = 2  # in a row, so one freak batch does not stop a healthy run


class DivergenceGuard(Callback):
    """Stop when the loss is NaN, infinite or exploded, before anything is saved from it.

    The loss of a step is computed before its update, so the update of the
    last step of an epoch could still ruin the weights: they and the
    evaluation loss are checked again after evaluation, before EpochRecorder
    (listed after this callback) saves them.
    """

    def __init__(self, state, checkpoint):
        super().__init__()
        self.state, self.checkpoint = state, checkpoint
        self.exploded_steps = 0

    def _stop(self, what, where):
        kept = (f"the checkpoint {self.checkpoint} (epoch {self.state.epochs_done}) is "
                "unchanged" if self.state.epochs_done else "no checkpoint was written")
        raise TrainingDiverged(
            f"training diverged: {what} at epoch {self.state.epochs_done + 1}, {where}; lower "
            f"optimizer.learning_rate (now {self.model._optimizer.get_lr():g}); {kept}")

    def on_train_batch_end(self, step, logs=None):
        # averaged over data-parallel ranks, so that all of them stop at the same step
        loss = mean_over_ranks(_scalar(logs["loss"]))
        if not math.isfinite(loss):
            self._stop(f"loss is {loss}", f"step {step + 1}")
        self.exploded_steps = self.exploded_steps + 1 if loss > EXPLODED_LOSS else 0
        if self.exploded_steps >= EXPLODED_STEPS:
            self._stop(f"loss is {loss:.4g}, above {EXPLODED_LOSS:.1f} for {EXPLODED_STEPS} "
                       "steps in a row", f"step {step + 1}")

    def on_eval_end(self, logs=None):
        loss = mean_over_ranks(_scalar(logs[MEAN_LOSS]))  # the whole set's, not a batch's
        if not loss <= EXPLODED_LOSS:  # also true for NaN
            self._stop(f"evaluation loss is {loss:.4g}", "after its last step")
        for param in self.model.network.parameters():
            if not paddle.isfinite(param).all():
                self._stop(f"parameter '{param.name}' is not finite", "after its last step")


class EpochRecorder(Callback):
    """After each evaluation: history, last and best checkpoint, early stopping.

    `save(best: bool)` writes the checkpoint; it is called on the main process
    only, after the state has been updated, so the sidecar describes the
    weights next to it.
    """

    def __init__(self, state, save, patience):
        super().__init__()
        self.state, self.save, self.patience = state, save, patience
        self.last_eval = None  # logs of the latest evaluation, the weights' final score

    def on_epoch_begin(self, epoch=None, logs=None):
        self.started = time.perf_counter()
        self.steps = 0

    def on_train_batch_end(self, step, logs=None):
        self.steps += 1

    def on_epoch_end(self, epoch, logs=None):
        # the epoch's mean (metrics.WholeSetLoss); hapi's `loss` is its last batch's
        self.train_logs = {"train_loss": _scalar(logs[MEAN_LOSS]),
                           "train_acc": _scalar(logs["acc"])}
        self.lr = self.model._optimizer.get_lr()  # the rate this epoch trained at
        self.train_seconds = time.perf_counter() - self.started

    def on_eval_end(self, logs=None):
        self.last_eval = dict(logs)
        state = self.state
        state.epochs_done += 1
        state.steps_done += self.steps
        state.epoch_steps_done = 0
        acc = _scalar(logs["acc"])
        state.history.append(EpochRecord(
            epoch=state.epochs_done, **self.train_logs, eval_loss=_scalar(logs[MEAN_LOSS]),
            eval_acc=acc, lr=self.lr, train_seconds=round(self.train_seconds, 3),
            seconds=round(time.perf_counter() - self.started, 3)))
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


class StopRequested(Exception):
    """Raised inside `Model.fit` to leave it after a completed step."""


class TrainingInterrupted(KeyboardInterrupt):
    """A stop signal ended training; the message says what was saved and how to resume.

    The tools exit with 128 + `signum`, as shells and service managers expect:
    130 for Ctrl-C, 143 for SIGTERM (kill, systemd, docker stop, Slurm), 129 for
    SIGHUP (the terminal closed).
    """

    def __init__(self, message, signum=signal.SIGINT):
        super().__init__(message)
        self.signum = signum


def signal_name(signum):
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


# what stops a run the way Ctrl-C does; Windows has no SIGHUP
STOP_SIGNALS = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name)]


class StopSignals:
    """Context manager: `handler(signum, frame)` for every stop signal, then the
    previous handlers back. paddle's import installs a C-level SIGTERM handler
    that dumps a "FatalError" report, so training installs its own after that."""

    def __init__(self, handler):
        self.handler, self.previous = handler, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.previous[signum] = signal.signal(signum, self.handler)
        return self

    def __exit__(self, *exc):
        for signum, previous in self.previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self.previous.clear()


class StopOnInterrupt(Callback):
    """A stop signal stops training after the current step, with the run state updated.

    A KeyboardInterrupt raised in the middle of an optimizer step could leave
    some parameters updated and others not, so the handler only records the
    signal, which is checked between steps (a second one stops at once). On a
    stop the state records how far into the epoch training got, so a resumed
    run skips exactly those batches. Install it (`signals()`) for the whole
    run: a signal during set-up is then seen at the first check.
    """

    def __init__(self):
        super().__init__()
        self.requested = 0  # the signal number asked for a stop, 0 for none

    def attach(self, state):
        self.state = state
        self.skipped = state.epoch_steps_done  # the resumed epoch starts this far in

    def _handle(self, signum, frame):
        if self.requested:
            raise TrainingInterrupted(f"a second {signal_name(signum)}: stopped at once, "
                                      "without saving; the last checkpoint written is kept",
                                      signum)
        self.requested = signum
        print(f"\n{signal_name(signum)}: stopping after the current step and saving a "
              "checkpoint (send it again to quit without saving)", file=sys.stderr, flush=True)

    def signals(self):
        return StopSignals(self._handle)

    def _check(self):
        # a collective: every rank stops at the same step, or the others would wait
        # forever for the departed one in the next gradient all-reduce
        if mean_over_ranks(float(self.requested)) > 0:
            self.state.steps_done += self.leg_steps
            self.state.epoch_steps_done = self.skipped + self.leg_steps
            raise StopRequested

    def on_epoch_begin(self, epoch=None, logs=None):
        self.leg_steps = 0
        self._check()

    def on_train_batch_end(self, step, logs=None):
        self.leg_steps += 1
        self._check()

    def on_epoch_end(self, epoch, logs=None):
        self.skipped = 0
