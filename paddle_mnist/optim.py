"""Optimizer and learning-rate schedule from the `optimizer` config section.

hapi's LRScheduler callback steps either per batch or per epoch; which one a
schedule needs is decided here, next to the schedule, and returned with it.
Step decay counts epochs; cosine and one-cycle count batches, so they follow
the same curve whatever the batch size.
"""

import paddle
from paddle.optimizer import lr as schedules


def build_schedule(config, base_lr, steps_per_epoch, epochs):
    """(learning rate or LRScheduler, steps_per_batch: bool)."""
    plan = config.lr_schedule
    by_step = plan.name in ("cosine", "onecycle")
    unit = steps_per_epoch if by_step else 1
    warmup = int(round(plan.warmup_epochs * unit))
    total = max(1, epochs * unit - warmup)
    if plan.name == "step":
        schedule = schedules.StepDecay(base_lr, step_size=plan.step_size, gamma=plan.gamma)
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
        by_step = by_step or plan.name == "constant"
    return schedule, by_step


def build_optimizer(config, parameters, steps_per_epoch, epochs, lr_multiplier=1.0):
    """(paddle optimizer, steps_per_batch) for the `optimizer` config section."""
    base_lr = config.learning_rate * lr_multiplier
    schedule, by_step = build_schedule(config, base_lr, steps_per_epoch, epochs)
    decay = paddle.regularizer.L2Decay(config.weight_decay) if config.weight_decay else None
    if config.name == "adam":
        optimizer = paddle.optimizer.Adam(schedule, parameters=parameters, weight_decay=decay)
    elif config.name == "adamw":  # decoupled weight decay, not an L2 term in the loss
        optimizer = paddle.optimizer.AdamW(schedule, parameters=parameters,
                                           weight_decay=config.weight_decay)
    elif config.name == "momentum":
        optimizer = paddle.optimizer.Momentum(schedule, momentum=config.momentum,
                                              use_nesterov=config.nesterov,
                                              parameters=parameters, weight_decay=decay)
    else:
        optimizer = paddle.optimizer.SGD(schedule, parameters=parameters, weight_decay=decay)
    return optimizer, by_step
