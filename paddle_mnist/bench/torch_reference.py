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

import importlib.util

import numpy as np

from ..data.transforms import to_input
from ..errors import ConfigError, UserError
from .machine import now, summarise

# registry names that are paddle's LeNet; the reference has only that network
LENET_NAMES = ("lenet", "lenet_sequential", "lenet_layer")


class Reference:
    """A loaded torch module plus what it needs to time the config's training."""

    def __init__(self, torch):
        self.torch = torch
        self.version = torch.__version__
        self.default_threads = torch.get_num_threads()
        self._tensors = {}   # holds one training set only

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

    def tensors(self, train, mean, std):
        """The normalised training set as torch tensors, made once for all trainers."""
        key = (id(train[0]), mean, std)
        if key not in self._tensors:
            images = np.ascontiguousarray(to_input(train[0], 28, mean, std))
            self._tensors = {key: (self.torch.from_numpy(images),
                                   self.torch.from_numpy(train[1].astype(np.int64)))}
        return self._tensors[key]

    def trainer(self, config, train, threads):
        return Trainer(self, config, train, threads)


class Trainer:
    """The eager loop for one config and thread count, run a window at a time."""

    def __init__(self, reference, config, train, threads):
        torch = self.torch = reference.torch
        self.threads, self.default_threads = threads, reference.default_threads
        self.config, self.batch = config, config.train.batch_size
        torch.manual_seed(config.train.seed)
        self.images, self.labels = reference.tensors(train, config.data.mean, config.data.std)
        self.network = reference.network()
        self.network.train()
        self.optimizer = reference.optimizer(config.optimizer, self.network.parameters())
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.batches = iter(())
        self.spans = []

    def _next_batch(self):
        chosen = next(self.batches, None)
        if chosen is None:  # a new epoch: reshuffle, drop the last partial batch
            order = self.torch.randperm(len(self.labels))
            self.batches = iter(order[start:start + self.batch]
                                for start in range(0, len(order) - self.batch + 1, self.batch))
            chosen = next(self.batches)
        return self.images[chosen], self.labels[chosen]

    def run(self, steps):
        """`steps` training steps on this trainer's thread count; returns (start, end) marks."""
        self.torch.set_num_threads(self.threads)
        try:
            start = now()
            for _ in range(steps):
                images, labels = self._next_batch()
                loss = self.loss_fn(self.network(images), labels)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            return start, now()
        finally:
            self.torch.set_num_threads(self.default_threads)

    def window(self, steps):
        self.spans.append(self.run(steps))

    def result(self, warmup, steps_per_window):
        return dict(framework="torch", path="plain PyTorch eager loop on in-memory tensors",
                    model="lenet (PyTorch twin)", optimizer=self.config.optimizer.name,
                    batch=self.batch, ranks=1, global_batch=self.batch, threads=self.threads,
                    default_threads=self.default_threads, augment=False,
                    **summarise(self.spans, steps_per_window * self.batch,
                                steps_per_window=steps_per_window, warmup_steps=warmup))


def check(config):
    """A one-line error when `config` cannot be compared, without importing torch."""
    if config.model.name not in LENET_NAMES:
        raise ConfigError(f"--compare-torch has a PyTorch twin of LeNet only "
                          f"({', '.join(LENET_NAMES)}), not of model '{config.model.name}'; "
                          "drop --compare-torch or use configs/lenet.yml")
    if importlib.util.find_spec("torch") is None:
        raise UserError("--compare-torch needs PyTorch, which is not installed: "
                        "pip install -r requirements-bench.txt")


def load():
    """The reference, importing torch (after `check`)."""
    import torch

    return Reference(torch)
