"""The PyTorch eager reference that training throughput is compared against.

The same network as paddle's LeNet (conv 1->6 3x3 pad 1, relu, max-pool 2,
conv 6->16 5x5, relu, max-pool 2, linear 400-120-84-10 with no activation
between the linears) and the config's optimizer, trained by the plain loop of
the PyTorch tutorials on the normalised training images held in memory as one
tensor, shuffled every epoch, at the same batch size. The learning-rate
schedule is left out: it changes no step's cost.

PyTorch is imported here only, and only when a comparison is asked for; it
is a benchmark dependency (requirements-bench.txt), not the toolkit's.
"""

import numpy as np

from ..data.transforms import to_input
from ..errors import ConfigError, UserError
from .machine import Windows

# registry names that are paddle's LeNet; the reference has only that network
LENET_NAMES = ("lenet", "lenet_sequential", "lenet_layer")


class Reference:
    """A loaded torch module plus what it needs to time the config's training."""

    def __init__(self, torch):
        self.torch = torch
        self.version = torch.__version__
        self.default_threads = torch.get_num_threads()

    def thread_counts(self):
        """One thread, and torch's own default (every logical CPU) when that differs."""
        return sorted({1, self.default_threads})

    def network(self):
        nn = self.torch.nn
        return nn.Sequential(
            nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Flatten(), nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10))

    def optimizer(self, settings, parameters):
        optim = self.torch.optim
        rate, decay = settings.learning_rate, settings.weight_decay
        if settings.name == "adam":   # paddle's L2Decay adds decay * w to the gradient, as here
            return optim.Adam(parameters, lr=rate, weight_decay=decay)
        if settings.name == "adamw":
            return optim.AdamW(parameters, lr=rate, weight_decay=decay)
        momentum = settings.momentum if settings.name == "momentum" else 0.0
        return optim.SGD(parameters, lr=rate, momentum=momentum, weight_decay=decay,
                         nesterov=settings.name == "momentum" and settings.nesterov)

    def measure(self, config, train, threads, steps=200, warmup=20, windows=5):
        """Images/s of the eager loop at config.train.batch_size on `threads` threads."""
        torch = self.torch
        torch.set_num_threads(threads)
        try:
            torch.manual_seed(config.train.seed)
            images = torch.from_numpy(np.ascontiguousarray(
                to_input(train[0], 28, config.data.mean, config.data.std)))
            labels = torch.from_numpy(train[1].astype(np.int64))
            network = self.network()
            optimizer = self.optimizer(config.optimizer, network.parameters())
            loss_fn = torch.nn.CrossEntropyLoss()
            batch = config.train.batch_size
            clock = Windows(warmup, windows, steps // windows, batch)
            network.train()
            clock.begin()
            while not clock.done:
                order = torch.randperm(len(labels))
                for start in range(0, len(order) - batch + 1, batch):
                    chosen = order[start:start + batch]
                    loss = loss_fn(network(images[chosen]), labels[chosen])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    clock.tick()
                    if clock.done:
                        break
        finally:
            torch.set_num_threads(self.default_threads)
        return dict(framework="torch", path="plain PyTorch eager loop on in-memory tensors",
                    model="lenet (PyTorch twin)", optimizer=config.optimizer.name, batch=batch,
                    ranks=1, global_batch=batch, threads=threads,
                    default_threads=self.default_threads, augment=False, **clock.summary())


def load(config):
    """The reference for `config`, or a one-line error when it cannot be compared."""
    if config.model.name not in LENET_NAMES:
        raise ConfigError(f"--compare-torch has a PyTorch twin of LeNet only "
                          f"({', '.join(LENET_NAMES)}), not of model '{config.model.name}'; "
                          "drop --compare-torch or use configs/lenet.yml")
    try:
        import torch
    except ImportError:
        raise UserError("--compare-torch needs PyTorch, which is not installed: "
                        "pip install -r requirements-bench.txt") from None
    return Reference(torch)
