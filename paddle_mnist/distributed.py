"""Ranks under `paddle.distributed.launch`, and what a data-parallel run adds up to.

The launcher starts one copy of a tool per device (or per CPU process) and
tells each its rank in PADDLE_TRAINER_ID and the number of ranks in
PADDLE_TRAINERS_NUM, the variables `paddle.distributed` itself reads. Reading
them here needs no paddle import, so `cli` can silence the other ranks before
anything prints. Without the launcher every function degrades to the single
process case (rank 0 of 1) without touching paddle.distributed.
"""

import os
import signal
import sys
import time

# the launcher stops every rank about a second after the first one exits
PEER_GRACE_SECONDS = 5


def rank():
    return int(os.environ.get("PADDLE_TRAINER_ID", "0"))


def world_size():
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def is_main_process():
    return rank() == 0


def quiet_other_ranks():
    """Ranks other than 0 print nothing on stdout; their errors still reach stderr.

    Every rank runs the same tool, so their reports would repeat rank 0's (the
    launcher shows rank 0's output and keeps each rank's in log/workerlog.N).
    """
    if not is_main_process():
        sys.stdout = open(os.devnull, "w", encoding="utf-8")


def let_other_ranks_report(status):
    """Called by a rank about to exit with `status` on an error: give the others
    time to report it too.

    All ranks check the same config, but a rank a little behind would be
    stopped by the launcher before it printed the error itself. Whichever rank
    leaves first, the launcher then terminates the rest: a rank stopped while
    it waits here has already reported, so it leaves at once with the same
    status (instead of paddle's C++ signal dump and a -15 the launcher would
    pass on).
    """
    if world_size() > 1:
        sys.stdout.flush()  # os._exit below skips the usual flush at exit
        sys.stderr.flush()
        signal.signal(signal.SIGTERM, lambda *_: os._exit(status))
        time.sleep(PEER_GRACE_SECONDS)


def mean_over_ranks(value):
    """The mean of `value` over all ranks; NaN on any rank makes it NaN everywhere.

    A collective: every rank must call it at the same point, which is what
    makes decisions taken from the result (stop on a diverged loss) the same
    on every rank instead of leaving the others waiting for a departed one.
    """
    if world_size() == 1:
        return value
    import paddle

    total = paddle.to_tensor([value], dtype="float64")
    paddle.distributed.all_reduce(total)
    return float(total.numpy()[0]) / world_size()


def gather_ints(value):
    """[rank 0's value, rank 1's value, ...]; a collective like `mean_over_ranks`."""
    if world_size() == 1:
        return [int(value)]
    import paddle

    parts = []
    paddle.distributed.all_gather(parts, paddle.to_tensor([int(value)], dtype="int64"))
    return [int(part.numpy()[0]) for part in parts]


def scaling(config, lr_multiplier, ranks=None):
    """How the run is spread: ranks, per-rank and global batch, base learning rate."""
    ranks = ranks or world_size()
    return {"ranks": ranks, "batch_per_rank": config.train.batch_size,
            "global_batch": config.train.batch_size * ranks,
            "learning_rate": config.optimizer.learning_rate * lr_multiplier}


def describe_scaling(config, lr_multiplier, ranks=None):
    """One log line: the effective batch size and learning rate of a data-parallel run."""
    spread = scaling(config, lr_multiplier, ranks)
    base = config.optimizer.learning_rate
    if lr_multiplier != 1:
        why = "train.scale_lr_with_ranks=true" if config.train.scale_lr_with_ranks else "given"
        rate = f"{spread['learning_rate']:g} ({base:g} x {lr_multiplier:g}, {why})"
    else:
        rate = (f"{base:g} (not scaled with the ranks; train.scale_lr_with_ranks=true would "
                f"make it {base * spread['ranks']:g})")
    return (f"data parallel: {spread['ranks']} ranks x batch {spread['batch_per_rank']} = "
            f"global batch {spread['global_batch']}; learning rate {rate}")


def describe_samples(per_rank):
    """One log line: how many training samples each rank went through."""
    return (f"data parallel: the ranks trained on {' + '.join(map(str, per_rank))} = "
            f"{sum(per_rank)} samples")
