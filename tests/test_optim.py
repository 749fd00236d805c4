"""Optimizers and schedules as the config asks for them, and the divergence check's input."""

import numpy as np
import paddle
import pytest

from paddle_mnist.callbacks import DivergenceGuard
from paddle_mnist.checkpoint import RunState
from paddle_mnist.config import OPTIMIZERS, from_dict
from paddle_mnist.errors import TrainingDiverged
from paddle_mnist.models import create_model
from paddle_mnist.optim import build_optimizer


def rates(optimizer, by_step, steps_per_epoch, epochs):
    """The learning rate each training step uses, stepping the scheduler as hapi does."""
    schedule = optimizer._learning_rate
    seen = []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            seen.append(optimizer.get_lr())
            if by_step:
                schedule.step()
        if not by_step and isinstance(schedule, paddle.optimizer.lr.LRScheduler):
            schedule.step()
    return seen


@pytest.mark.parametrize("name", ["constant", "step", "cosine"])
def test_half_an_epoch_of_warm_up_is_half_an_epoch(name):
    config = from_dict({}, ["optimizer.learning_rate=0.1", f"optimizer.lr_schedule.name={name}",
                            "optimizer.lr_schedule.warmup_epochs=0.5",
                            "optimizer.lr_schedule.step_size=1"]).optimizer
    network = create_model("mlp_small")
    optimizer, by_step = build_optimizer(config, network.parameters(), steps_per_epoch=10,
                                         epochs=3)
    assert by_step  # warm-up is counted in steps, whatever the schedule
    seen = rates(optimizer, by_step, 10, 3)
    assert seen[:6] == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08, 0.1])
    if name == "step":  # step decay still decays once per epoch after the warm-up
        assert seen[14] == pytest.approx(0.1) and seen[15] == pytest.approx(0.01)


def test_no_warm_up_keeps_step_decay_per_epoch():
    config = from_dict({}, ["optimizer.lr_schedule.name=step",
                            "optimizer.lr_schedule.step_size=1"]).optimizer
    optimizer, by_step = build_optimizer(config, create_model("mlp_small").parameters(), 10, 3)
    assert not by_step
    assert rates(optimizer, by_step, 10, 3)[::10] == pytest.approx([1e-3, 1e-4, 1e-5])


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_takes_a_step_that_lowers_the_loss(name):
    paddle.seed(0)
    rate = 0.001 if name.startswith("adam") else 0.05
    config = from_dict({}, [f"optimizer.name={name}", f"optimizer.learning_rate={rate}",
                            "optimizer.weight_decay=0.01"]).optimizer
    network = create_model("mlp_small")
    optimizer, _ = build_optimizer(config, network.parameters(), 10, 1)
    images = paddle.to_tensor(np.random.RandomState(0).rand(32, 1, 28, 28).astype("float32"))
    labels = paddle.to_tensor(np.arange(32).reshape(32, 1) % 10)
    losses = []
    for _ in range(5):
        loss = paddle.nn.functional.cross_entropy(network(images), labels)
        losses.append(float(loss))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    assert losses[-1] < losses[0]
    if name == "adamw":
        assert isinstance(optimizer, paddle.optimizer.AdamW)


class _Evaluated:
    """hapi hands DivergenceGuard the model it trains; only .network and .optimizer are read."""

    def __init__(self):
        self.network = create_model("mlp_small")
        self._optimizer = paddle.optimizer.Adam(parameters=self.network.parameters())


@pytest.mark.parametrize("logs, stops", [
    ({"loss": [1e6], "mean_loss": 0.3}, False),   # one freak last batch, a healthy epoch
    ({"loss": [0.1], "mean_loss": 1e6}, True),    # a fine last batch, an exploded epoch
    ({"loss": [0.1], "mean_loss": float("nan")}, True),
])
def test_the_check_after_evaluation_reads_the_whole_sets_loss(logs, stops):
    guard = DivergenceGuard(RunState(), "out/mnist")
    guard.set_model(_Evaluated())
    if stops:
        with pytest.raises(TrainingDiverged, match="evaluation loss"):
            guard.on_eval_end(logs)
    else:
        guard.on_eval_end(logs)
