"""Training throughput of a config through the toolkit's own training path.

`tools/train.py` trains through `engine.train`, which sets a run up with
`engine.build_training`: the config's network in a `paddle.Model` prepared
with the optimizer, loss and metrics, the in-memory `BatchLoader`, and
`Model.fit` with the learning-rate callback. This module builds the same
`Training` and runs it without the evaluation and checkpoint saving that
happen between epochs, timing the steps with a callback, so the figure
includes the data pipeline, hapi's per-step bookkeeping and the metrics, as a
user's run does.

Under `paddle.distributed.launch` each rank trains on its shard with the
config's (per-rank) batch, as `tools/train.py` does; images/s then counts
the images of all ranks.
"""

import math

import paddle

from .. import distributed, engine
from ..config import from_dict
from ..data import load_splits
from ..errors import ConfigError
from .machine import Windows

PATH = "engine.build_training + paddle.Model.fit (tools/train.py's path)"


class _Ticker(paddle.callbacks.Callback):
    """Marks the end of every training step (optimizer step and metric update done)."""

    def __init__(self, windows):
        super().__init__()
        self.windows = windows

    def on_train_begin(self, logs=None):
        self.windows.begin()

    def on_train_batch_end(self, step, logs=None):
        self.windows.tick()


def check_plan(steps, warmup, windows):
    if steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}")
    if warmup < 0:
        raise ConfigError(f"--warmup must be 0 or more, got {warmup}")
    if not 1 <= windows <= steps:
        raise ConfigError(f"--windows must be between 1 and --steps ({steps}), got {windows}")


def with_batch(config, batch_size):
    """The config with train.batch_size replaced (checked like a -o override)."""
    return from_dict(config.to_dict(), [f"train.batch_size={batch_size}"])


def measure_paddle(config, splits=None, steps=200, warmup=20, windows=5, callbacks=(),
                   between=None):
    """Images/s of `config` (at its train.batch_size) through Model.fit; see `Windows`.

    `callbacks` are added after the timing one (the profiler uses this);
    `between` runs between timed windows (the PyTorch reference's turns).
    """
    check_plan(steps, warmup, windows)
    training = engine.build_training(config, splits=splits)
    ranks = distributed.world_size()
    clock = Windows(warmup, windows, steps // windows, config.train.batch_size * ranks, between)
    training.model.fit(training.loader, epochs=math.ceil(clock.total_steps / len(training.loader)),
                       num_iters=clock.total_steps, verbose=0,
                       callbacks=[_Ticker(clock), paddle.callbacks.LRScheduler(
                           by_step=training.by_step, by_epoch=not training.by_step), *callbacks])
    return dict(framework="paddle", path=PATH, model=config.model.name,
                optimizer=config.optimizer.name, batch=config.train.batch_size,
                ranks=ranks, global_batch=config.train.batch_size * ranks,
                threads=paddle.get_flags(["FLAGS_paddle_num_threads"])["FLAGS_paddle_num_threads"],
                augment=bool(config.data.augment and config.data.augment.enabled),
                **clock.summary())


def run(config, batch_sizes, steps=200, warmup=20, windows=5, compare_torch=False):
    """{'machine', 'config', 'results': [rows], 'ratios': [...]} per batch size.

    With `compare_torch`, PyTorch's windows (one thread, and its default
    thread count) are interleaved with paddle's: paddle window, torch windows,
    paddle window, ... so that all of them run under the same machine load.
    """
    from . import machine

    reference = None
    if compare_torch:
        from . import torch_reference

        torch_reference.check(config)  # fails early, before any data is read
        reference = torch_reference.load()
    configs = [with_batch(config, batch) for batch in batch_sizes]
    splits = load_splits(config.data, config.train.seed)
    report = {"machine": machine.describe(), "config": config.to_dict(), "results": []}
    for each in configs:
        trainers = [reference.trainer(each, splits["train"], threads)
                    for threads in reference.thread_counts()] if reference else []
        for trainer in trainers:
            trainer.run(warmup)

        def torch_turn():
            for trainer in trainers:
                trainer.window(steps // windows)

        report["results"].append(measure_paddle(each, splits, steps, warmup, windows,
                                                between=torch_turn))
        torch_turn()  # paddle's last window had no turn after it
        report["results"] += [t.result(warmup, steps // windows) for t in trainers]
    if reference:
        report["machine"]["torch_version"] = reference.version
        report["ratios"] = ratios(report["results"])
    report["machine"]["load_average_after"] = machine.load_average()
    return report


def ratios(rows):
    """Paddle images/s over PyTorch's, per batch, against each torch thread count."""
    paddle_rows = {r["batch"]: r for r in rows if r["framework"] == "paddle"}
    found = []
    for row in rows:
        if row["framework"] == "torch" and row["batch"] in paddle_rows:
            ours = paddle_rows[row["batch"]]
            found.append({"batch": row["batch"], "torch_threads": row["threads"],
                          "torch_default_threads": row["default_threads"],
                          "paddle_over_torch": round(ours["images_per_s"] / row["images_per_s"], 2)})
    return found
