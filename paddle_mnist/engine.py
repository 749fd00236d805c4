"""Config -> a planned run -> `paddle.Model.fit`, with checkpoints and VisualDL.

Every tool that trains goes through here: `planning.plan` decides what a run
is (start from a config, resume a checkpoint, continue a sweep point, or start
from a fine-tune's weights), `build_training` sets it up (data, network in a
`paddle.Model` with declared InputSpecs, `prepare(optimizer,
CrossEntropyLoss, metrics)` as the PaddlePaddle tutorials do, the batch
loader), and `train` runs it in four named steps: restore, callbacks, fit,
finish. Only rank 0 writes (checkpoints, lock, the VisualDL dashboard of
`paddle_mnist.dashboard`); every rank trains.
"""

import contextlib
import datetime
import os
import random
from dataclasses import dataclass
from typing import Optional

import numpy as np
import paddle

from . import checkpoint as ckpt
from . import dashboard, distributed
from .callbacks import (DivergenceGuard, EpochRecorder, StopOnInterrupt, StopRequested,
                        TrainingInterrupted)
from .config import Config
from .data import BatchLoader, eval_loader, load_splits
from .data.extra import load_extra
from .metrics import MEAN_LOSS, hapi_metrics
from .network import build_network, paddle_model, select_device
from .optim import build_optimizer
from .runlock import RunLock
from .scoring import datasets_for, score_model

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


@dataclass
class Training:
    """Everything a run trains with, set up and ready for `Model.fit`."""

    config: Config
    data: dict                 # 'train', 'val', 'test' -> ArrayDataset or None
    model: paddle.Model
    loader: BatchLoader
    optimizer: paddle.optimizer.Optimizer
    by_step: bool              # does the schedule step per batch (else per epoch)?
    lr_multiplier: float
    prefix: str                # the last epoch's checkpoint ...
    best_prefix: str           # ... and the best one's
    extras: list               # data.extra.ExtraData mixed into every batch
    eval_outputs: Optional[dashboard.EvalOutputs] = None  # the evaluation's predictions

    @property
    def eval_split(self):
        return "val" if self.data["val"] is not None else "test"

    def sidecar(self, state, source):
        spread = distributed.scaling(self.config, self.lr_multiplier)
        return ckpt.Sidecar(model=self.config.model.name, config=self.config.to_dict(),
                            state=state, eval_split=self.eval_split,
                            lr_multiplier=self.lr_multiplier,
                            data_parallel=ckpt.DataParallel(**spread),
                            paddle_version=paddle.__version__, source=source,
                            extra=[ckpt.ExtraRecord(**extra.describe())
                                   for extra in self.extras])

    def save(self, state, source, best):
        sidecar = self.sidecar(state, source)
        ckpt.save_checkpoint(self.prefix, self.model.network, self.optimizer, sidecar)
        if best:
            ckpt.save_checkpoint(self.best_prefix, self.model.network, None, sidecar)


def build_training(config, network=None, splits=None):
    """The Training for `config`: the one setup `train` runs and `bench.training`
    times, so the benchmark measures the path a user's run takes. `network`
    replaces a fresh one (fine-tuning); `splits` reuses already-read data."""
    select_device(config.train.device)
    seed_everything(config.train.seed)
    data = datasets_for(config, splits or load_splits(config.data, config.train.seed))
    model = paddle_model(config, network or build_network(config))
    ranks = distributed.world_size()
    lr_multiplier = ranks if config.train.scale_lr_with_ranks else 1.0
    prefix = ckpt.normalize_prefix(config.output.checkpoint)
    extras = load_extra(config.data.extra, cache_dir=prefix + ".extra")
    loader = BatchLoader(data["train"], config.train.batch_size, seed=config.train.seed,
                         augment=config.data.augment,
                         max_steps=config.train.max_steps_per_epoch, extras=extras)
    optimizer, by_step = build_optimizer(config.optimizer, model.parameters(), len(loader),
                                         config.train.epochs, lr_multiplier)
    # the dashboard reads the predictions hapi's evaluation makes anyway (rank 0 logs)
    eval_outputs = (dashboard.EvalOutputs() if dashboard.wants_eval_outputs(config)
                    and distributed.is_main_process() else None)
    model.prepare(optimizer, paddle.nn.CrossEntropyLoss(),
                  hapi_metrics() + ([eval_outputs] if eval_outputs else []))
    return Training(config, data, model, loader, optimizer, by_step, lr_multiplier,
                    prefix, prefix + "_best", extras, eval_outputs)


@dataclass
class TrainResult:
    checkpoint: str
    best_checkpoint: str
    log_dir: str
    state: ckpt.RunState
    test: dict         # {"acc", "loss", "samples"} of the last epoch's weights on the test set
    epochs_trained: int  # in this call; 0 when the checkpoint had nothing left to do


def train(run):
    """Train (or continue) the planned run; see `TrainResult`.

    Ctrl-C, SIGTERM and SIGHUP stop it after the current step, saved (see
    callbacks.StopOnInterrupt), from the moment it starts setting up."""
    stopper = StopOnInterrupt()
    with stopper.signals():
        training = build_training(run.config,
                                  run.start_from.network if run.start_from else None)
        state, source = _restore(training, run)
        stopper.attach(state)
        remaining = 0 if state.stopped_early else training.config.train.epochs - state.epochs_done
        if remaining <= 0:  # nothing to do, so nothing is written either
            test = run.resume.sidecar.test if run.resume else None
            test = vars(test) if test else score_model(training.model, training.data["test"],
                                                       training.config.train.eval_batch_size)
            return TrainResult(training.prefix, training.best_prefix, state.log_dir, state,
                               test, 0)
        if distributed.world_size() > 1 and distributed.is_main_process():
            print(distributed.describe_scaling(training.config, training.lr_multiplier))
        done_before = state.epochs_done
        lock = RunLock(training.prefix) if distributed.is_main_process() else contextlib.nullcontext()
        with lock, dashboard.opened(training, state) as board:
            recorder = _fit(training, state, source, remaining, stopper, board)
            test = _finish(training, state, recorder)
            if board:
                board.finish(test)
    return TrainResult(training.prefix, training.best_prefix, state.log_dir, state, test,
                       state.epochs_done - done_before)


def _restore(training, run):
    """(RunState, source) to start from: the resumed checkpoint's, or a new run's."""
    source = run.start_from.source if run.start_from else None
    state = ckpt.RunState()
    if run.resume is not None:
        saved = run.resume.sidecar
        training.model.network.set_state_dict(
            ckpt.match_params(training.model.network, run.resume.params)[0])
        training.optimizer.set_state_dict(run.resume.optimizer)
        state, source = saved.state, saved.source or source
        seed_everything(training.config.train.seed + state.epochs_done)  # fresh dropout noise
    if run.resume is None and run.start_from is not None:
        state.epoch_offset, state.step_offset = run.start_from.numbered_from
    if not state.run_name:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        state.run_name = f"{training.config.output.run_name or training.config.model.name}-{stamp}"
        state.log_dir = os.path.join(training.config.output.log_dir, state.run_name)
    training.loader.set_epoch(state.epochs_done, skip=state.epoch_steps_done)
    return state, source


def _saver(training, state, source, board):
    """save(best): the checkpoint, after the dashboard's records are on disk, so the
    records a checkpoint covers survive a crash right after it."""
    def save(best):
        if board:
            board.flush()
        training.save(state, source, best)
    return save


def _callbacks(training, state, source, stopper, board):
    """(callbacks for Model.fit, the recorder)."""
    recorder = EpochRecorder(state, _saver(training, state, source, board),
                             training.config.train.early_stopping_patience)
    # the dashboard after the guard (nothing is logged from a diverged evaluation) and
    # before the recorder (which saves) and the scheduler (the rate of the step done)
    callbacks = [DivergenceGuard(state, training.prefix)] + ([board] if board else []) + [
        recorder, paddle.callbacks.LRScheduler(by_step=training.by_step,
                                               by_epoch=not training.by_step)]
    callbacks.append(stopper)  # last: a stop comes after the step is scheduled and logged
    return callbacks, recorder


def _fit(training, state, source, epochs, stopper, board):
    """Model.fit for `epochs` more epochs; a stop signal saves the run mid-epoch and stops."""
    callbacks, recorder = _callbacks(training, state, source, stopper, board)
    config = training.config
    if distributed.is_main_process():
        ckpt.check_writable(training.prefix)
    steps_before = state.steps_done
    try:
        training.model.fit(training.loader,
                           eval_loader(training.data[training.eval_split],
                                       config.train.eval_batch_size),
                           epochs=epochs, eval_freq=1, log_freq=config.train.log_freq,
                           verbose=2 if distributed.is_main_process() else 0,
                           callbacks=callbacks)
    except StopRequested:
        if state.steps_done == steps_before:
            raise TrainingInterrupted("training stopped before its first step; nothing was "
                                      "trained or saved", stopper.requested) from None
        if distributed.is_main_process():
            _saver(training, state, source, board)(best=False)
        raise TrainingInterrupted(_stopped_at(state, len(training.loader), training.prefix),
                                  stopper.requested) from None
    return recorder


def _finish(training, state, recorder):
    """The last weights' test score, recorded in the sidecar with what each rank trained."""
    config = training.config
    if training.eval_split == "test" and recorder.last_eval:
        # fit's last evaluation already scored these weights on the test set
        test = {"acc": float(recorder.last_eval["acc"]),
                "loss": float(recorder.last_eval[MEAN_LOSS]), "samples": len(training.data["test"])}
    else:
        test = score_model(training.model, training.data["test"], config.train.eval_batch_size)
    spread = distributed.scaling(config, training.lr_multiplier)
    # what each rank really trained on in this leg (a collective: every rank calls it)
    spread["samples_per_rank"] = distributed.gather_ints(training.loader.samples_seen)
    if distributed.world_size() > 1 and distributed.is_main_process():
        print(distributed.describe_samples(spread["samples_per_rank"]))
    if distributed.is_main_process() and state.epochs_done:
        ckpt.update_sidecar(training.prefix, test=ckpt.Score(**test),
                            data_parallel=ckpt.DataParallel(**spread))
    return test


def _stopped_at(state, steps_per_epoch, prefix):
    where = (f"at epoch {state.epochs_done + 1}, step {state.epoch_steps_done} of "
             f"{steps_per_epoch}" if state.epoch_steps_done else f"after epoch {state.epochs_done}")
    return (f"training stopped {where}; saved {prefix}; resume with: "
            f"python tools/train.py --resume {prefix}")
