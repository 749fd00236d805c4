"""Config -> `paddle.Model` -> fit / evaluate, with checkpoints and VisualDL.

This is the path every tool trains and evaluates through: `train` starts or
resumes a run, `evaluate` scores a checkpoint. Both wrap the network in
`paddle.Model` with declared InputSpecs and use `prepare(optimizer,
CrossEntropyLoss, Accuracy)` exactly as the PaddlePaddle tutorials do.
"""

import contextlib
import datetime
import os
import random
from dataclasses import dataclass

import numpy as np
import paddle
from paddle.static import InputSpec

from . import checkpoint as ckpt
from . import distributed
from .callbacks import (DivergenceGuard, EpochRecorder, RunLogger, RunState, StopOnInterrupt,
                        StopRequested, TrainingInterrupted, is_main_process)
from .config import from_dict
from .data import ArrayDataset, BatchLoader, eval_loader, load_splits
from .errors import ConfigError
from .models import create_model, model_input_size
from .optim import build_optimizer
from .runlock import RunLock


def select_device(spec):
    """'auto' picks the GPU when this paddle build has one, else the CPU."""
    if spec == "auto":
        has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        spec = "gpu" if has_gpu else "cpu"
    try:
        return paddle.set_device(spec)
    except (ValueError, RuntimeError) as err:
        raise ConfigError(f"train.device={spec!r} is not usable here ({str(err).splitlines()[0]}); "
                          "use auto or cpu") from None


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def input_size_of(config):
    native = model_input_size(config.model.name)
    wanted = config.data.input_size or native
    if wanted != native:
        raise ConfigError(f"model '{config.model.name}' expects {native}x{native} input; "
                          f"set data.input_size to {native} or leave it unset")
    return native


def build_model(config, network=None):
    """paddle.Model around the configured network, with declared input specs."""
    size = input_size_of(config)
    network = network or create_model(config.model.name, **config.model.args)
    inputs = InputSpec([None, 1, size, size], "float32", "image")
    labels = InputSpec([None, 1], "int64", "label")
    return paddle.Model(network, inputs=inputs, labels=labels)


def datasets(config, splits):
    """{'train', 'val', 'test'} -> ArrayDataset (or None) with the config's input."""
    size = input_size_of(config)
    return {name: ArrayDataset(*pair, input_size=size, mean=config.data.mean, std=config.data.std)
            if pair else None for name, pair in splits.items()}


def prepare(model, config, steps_per_epoch, lr_multiplier=1.0):
    optimizer, by_step = build_optimizer(config.optimizer, model.parameters(), steps_per_epoch,
                                         config.train.epochs, lr_multiplier)
    # WholeSetLoss too, so that an epoch's evaluation on the test set is the final score
    model.prepare(optimizer, paddle.nn.CrossEntropyLoss(),
                  [paddle.metric.Accuracy(), WholeSetLoss()])
    return optimizer, by_step


def new_run_name(config):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{config.output.run_name or config.model.name}-{stamp}"


@dataclass
class TrainResult:
    checkpoint: str
    best_checkpoint: str
    log_dir: str
    state: RunState
    test: dict   # {"acc", "loss"} of the last epoch's weights on the test set
    lr_multiplier: float


class WholeSetLoss(paddle.metric.Metric):
    """Mean cross-entropy over every sample seen, each counted once.

    The `loss` hapi reports is that of the last batch of this rank only. In
    evaluation, metrics receive the outputs gathered from all ranks with the
    distributed sampler's padding cut off, so this one is the whole set's
    loss; in training it is the running mean of the epoch so far.
    """

    def __init__(self):
        super().__init__()
        self.reset()

    def name(self):
        return "mean_loss"

    def compute(self, logits, labels):
        return paddle.nn.functional.cross_entropy(logits, labels, reduction="none")

    def update(self, losses):
        self.total += float(np.sum(losses))
        self.count += int(np.size(losses))

    def reset(self):
        self.total, self.count = 0.0, 0

    def accumulate(self):
        return self.total / max(self.count, 1)


def evaluate_model(model, dataset, batch_size):
    """{'acc', 'loss', 'samples'} over the whole dataset, the same on every rank.

    `model` is left prepared for evaluation only (any optimizer is dropped).
    """
    model.prepare(loss=paddle.nn.CrossEntropyLoss(),
                  metrics=[paddle.metric.Accuracy(), WholeSetLoss()])
    result = model.evaluate(eval_loader(dataset, batch_size), verbose=0)
    return {"acc": float(result["acc"]), "loss": float(result["mean_loss"]),
            "samples": len(dataset)}


def build_training(config, network=None, lr_multiplier=None, splits=None):
    """(data, model, loader, optimizer, by_step, lr_multiplier) for training `config`.

    The one setup `train` runs and `bench.training` times, so the benchmark
    measures the path a user's run takes. `splits` reuses already-read data.
    """
    select_device(config.train.device)
    seed_everything(config.train.seed)
    data = datasets(config, splits or load_splits(config.data, config.train.seed))
    model = build_model(config, network)
    if lr_multiplier is None:
        ranks = paddle.distributed.get_world_size()
        lr_multiplier = ranks if config.train.scale_lr_with_ranks else 1.0
    loader = BatchLoader(data["train"], config.train.batch_size, seed=config.train.seed,
                         augment=config.data.augment,
                         max_steps=config.train.max_steps_per_epoch)
    optimizer, by_step = prepare(model, config, len(loader), lr_multiplier)
    return data, model, loader, optimizer, by_step, lr_multiplier


def train(config, resume=None, network=None, state=None, lr_multiplier=None, source=None):
    """Train (or continue) the run described by `config`; see `TrainResult`.

    `resume` is a loaded Checkpoint to continue; `network`, `state` and
    `lr_multiplier` let fine-tuning start from already-loaded weights.
    `source` ({prefix, epoch} of the checkpoint fine-tuning started from) is
    recorded in the sidecar, and kept when the run is resumed.
    """
    data, model, loader, optimizer, by_step, lr_multiplier = build_training(
        config, network, lr_multiplier)
    nranks = paddle.distributed.get_world_size()
    spread = distributed.scaling(config, lr_multiplier, nranks)
    if nranks > 1 and is_main_process():
        print(distributed.describe_scaling(config, lr_multiplier, nranks))
    state = state or RunState()
    if resume is not None:
        model.network.set_state_dict(ckpt.match_params(model.network, resume.params)[0])
        optimizer.set_state_dict(resume.optimizer)
        state = RunState(**resume.meta["state"])
        source = source or resume.meta.get("source")
        seed_everything(config.train.seed + state.epochs_done)  # fresh dropout noise per leg
    if not state.run_name:
        state.run_name = new_run_name(config)
        state.log_dir = os.path.join(config.output.log_dir, state.run_name)
    loader.set_epoch(state.epochs_done, skip=state.epoch_steps_done)
    prefix = ckpt.normalize_prefix(config.output.checkpoint)
    best_prefix = prefix + "_best"
    eval_split = "val" if data["val"] is not None else "test"

    def save(best):
        meta = {"model": config.model.name, "config": config.to_dict(), "state": state.to_dict(),
                "eval_split": eval_split, "lr_multiplier": lr_multiplier, "data_parallel": spread,
                "paddle_version": paddle.__version__}
        if source:
            meta["source"] = source
        ckpt.save_checkpoint(prefix, model.network, optimizer, meta)
        if best:
            ckpt.save_checkpoint(best_prefix, model.network, None, meta)

    logger = RunLogger(state)
    stopper = StopOnInterrupt(state)
    recorder = EpochRecorder(state, save, config.train.early_stopping_patience)
    callbacks = [DivergenceGuard(state, prefix), recorder,
                 paddle.callbacks.LRScheduler(by_step=by_step, by_epoch=not by_step)]
    if is_main_process():
        callbacks.append(logger)
    callbacks.append(stopper)  # last: a stop comes after the step is scheduled and logged
    remaining = config.train.epochs - state.epochs_done
    # one writer per output prefix; other ranks write nothing
    with RunLock(prefix) if is_main_process() else contextlib.nullcontext():
        try:
            if remaining > 0 and not state.stopped_early:
                stopper.install()
                model.fit(loader, eval_loader(data[eval_split], config.train.eval_batch_size),
                          epochs=remaining, eval_freq=1, log_freq=config.train.log_freq,
                          verbose=2 if is_main_process() else 0, callbacks=callbacks)
        except StopRequested:
            if is_main_process():
                save(best=False)
            raise TrainingInterrupted(_stopped_at(state, len(loader), prefix)) from None
        finally:
            stopper.restore()
            logger.close()
        if eval_split == "test" and recorder.last_eval:
            # fit's last evaluation already scored these weights on the test set
            test = {"acc": float(recorder.last_eval["acc"]),
                    "loss": float(recorder.last_eval["mean_loss"]),
                    "samples": len(data["test"])}
        else:
            test = evaluate_model(model, data["test"], config.train.eval_batch_size)
        # what each rank really trained on in this leg (a collective: every rank calls it)
        spread["samples_per_rank"] = distributed.gather_ints(loader.samples_seen)
        if nranks > 1 and is_main_process():
            print(distributed.describe_samples(spread["samples_per_rank"]))
        if is_main_process() and state.epochs_done:
            ckpt.update_meta(prefix, test=test, data_parallel=spread)
    return TrainResult(prefix, best_prefix, state.log_dir, state, test, lr_multiplier)


def _stopped_at(state, steps_per_epoch, prefix):
    where = (f"at epoch {state.epochs_done + 1}, step {state.epoch_steps_done} of "
             f"{steps_per_epoch}" if state.epoch_steps_done else f"after epoch {state.epochs_done}")
    return (f"training stopped {where}; saved {prefix}; resume with: "
            f"python tools/train.py --resume {prefix}")


def load_for_eval(prefix, overrides=()):
    """A checkpoint's config (plus overrides) and a paddle.Model holding its weights."""
    checkpoint = ckpt.load_checkpoint(prefix, with_optimizer=False)
    config = from_dict(checkpoint.meta["config"], overrides)
    select_device(config.train.device)
    model = build_model(config)
    model.network.set_state_dict(ckpt.match_params(model.network, checkpoint.params)[0])
    model.prepare(loss=paddle.nn.CrossEntropyLoss(), metrics=paddle.metric.Accuracy())
    return checkpoint, config, model


def evaluate(prefix, overrides=(), split="test"):
    """{'acc', 'loss', 'samples', ...} of a checkpoint on the test (or val) split."""
    checkpoint, config, model = load_for_eval(prefix, overrides)
    data = datasets(config, load_splits(config.data, config.train.seed))
    if data[split] is None:
        raise ConfigError(f"the checkpoint has no '{split}' split (data.val_split is 0)")
    result = evaluate_model(model, data[split], config.train.eval_batch_size)
    return dict(result, split=split, checkpoint=checkpoint.prefix, model=config.model.name,
                epoch=checkpoint.meta["state"]["epochs_done"])
