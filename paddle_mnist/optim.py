"""Optimizer and learning-rate schedule from the `optimizer` config section.

hapi's LRScheduler callback steps either per batch or per epoch; which one a
schedule needs is decided here, next to the schedule, and returned with it.
Cosine and one-cycle count batches, so they follow the same curve whatever
the batch size. Step decay and a constant rate count epochs, unless a
warm-up is asked for: warm-up is always counted in batches (half an epoch of
warm-up is a real thing), and step decay then counts its epochs in batches.
"""

import paddle
from paddle.optimizer import lr as schedules

from .config import OPTIMIZERS


def _adam(config, rate, parameters, decay):
    return paddle.optimizer.Adam(rate, parameters=parameters, weight_decay=decay)


def _adamw(config, rate, parameters, decay):
    # decoupled weight decay, not an L2 term in the loss
    return paddle.optimizer.AdamW(rate, parameters=parameters, weight_decay=config.weight_decay)


def _momentum(config, rate, parameters, decay):
    return paddle.optimizer.Momentum(rate, momentum=config.momentum, use_nesterov=config.nesterov,
                                     parameters=parameters, weight_decay=decay)


def _sgd(config, rate, parameters, decay):
    return paddle.optimizer.SGD(rate, parameters=parameters, weight_decay=decay)


BUILDERS = {"adam": _adam, "adamw": _adamw, "momentum": _momentum, "sgd": _sgd}
assert set(BUILDERS) == set(OPTIMIZERS), "config.OPTIMIZERS and optim.BUILDERS must agree"


def build_schedule(config, base_lr, steps_per_epoch, epochs):
    """(learning rate or LRScheduler, steps_per_batch: bool)."""
    plan = config.lr_schedule
    warmup = round(plan.warmup_epochs * steps_per_epoch)
    if plan.warmup_epochs > 0:
        warmup = max(warmup, 1)  # a warm-up shorter than one step is still one step
    by_step = plan.name in ("cosine", "onecycle") or warmup > 0
    unit = steps_per_epoch if by_step else 1
    total = max(1, epochs * unit - warmup)
    if plan.name == "step":
        schedule = schedules.StepDecay(base_lr, step_size=plan.step_size * unit, gamma=plan.gamma)
    elif plan.name == "cosine":
        schedule = schedules.CosineAnnealingDecay(base_lr, T_max=total)
    elif plan.name == "onecycle":
        schedule = schedules.OneCycleLR(max_learning_rate=base_lr, total_steps=total,
                                        phase_pct=plan.pct_start)
    else:
        schedule = base_lr
    if warmup:
        schedule = schedules.LinearWarmup(schedule, warmup_steps=warmup, start_lr=0.0,
                                          end_lr=base_lr)
    return schedule, by_step


def build_optimizer(config, parameters, steps_per_epoch, epochs, lr_multiplier=1.0):
    """(paddle optimizer, steps_per_batch) for the `optimizer` config section."""
    base_lr = config.learning_rate * lr_multiplier
    schedule, by_step = build_schedule(config, base_lr, steps_per_epoch, epochs)
    decay = paddle.regularizer.L2Decay(config.weight_decay) if config.weight_decay else None
    return BUILDERS[config.name](config, schedule, parameters, decay), by_step
