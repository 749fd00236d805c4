"""Batches for `paddle.Model.fit` and `evaluate`.

Training uses `BatchLoader`: indices come from paddle's DistributedBatchSampler
(so under `paddle.distributed.launch` each rank gets its own shard of every
epoch), pixels are gathered and normalised a whole batch at a time. Evaluation
uses a plain `paddle.io.DataLoader`, because hapi trims the padding that
distributed sampling adds to the last batch only for a real DataLoader.
"""

import numpy as np
import paddle
from paddle.io import DataLoader, Dataset, DistributedBatchSampler

from .transforms import augment_batch, to_input


class ArrayDataset(Dataset):
    """MNIST arrays as a per-sample paddle Dataset (normalised image, [label])."""

    def __init__(self, images, labels, input_size=28, mean=127.5, std=127.5):
        self.images, self.labels = images, labels
        self.input_args = (input_size, mean, std)

    def __getitem__(self, index):
        image = to_input(self.images[index], *self.input_args)[0]
        return image, self.labels[index:index + 1]

    def __len__(self):
        return len(self.labels)


class BatchLoader:
    """Shuffled, sharded, optionally augmented training batches of in-memory arrays.

    The shuffle order and the augmentation of each batch depend only on
    (seed, epoch, step), so a resumed run sees the same batches an
    uninterrupted one would have, even when it resumes in the middle of an
    epoch (`set_epoch(epoch, skip=steps already trained)`). `extras`
    (`data.extra.ExtraData`) replace the end of every batch by samples of the
    users' own images, `share` of it each, drawn the same reproducible way; the
    rest of the batch stays MNIST, so the network keeps what it knew.
    """

    def __init__(self, dataset, batch_size, *, seed=0, augment=None, max_steps=None,
                 shuffle=True, extras=()):
        self.dataset, self.extras = dataset, list(extras)
        self.sampler = DistributedBatchSampler(dataset, batch_size, shuffle=shuffle)
        self.seed, self.augment, self.max_steps = seed, augment, max_steps
        self.epoch = 0
        self.skip = 0
        self.samples_seen = 0   # by this rank, over the loader's life; checked in tests

    def set_epoch(self, epoch, skip=0):
        """Start at `epoch`; its first `skip` batches are passed over (once)."""
        self.epoch, self.skip = epoch, skip

    def __len__(self):
        steps = len(self.sampler)
        return min(steps, self.max_steps) if self.max_steps else steps

    def _stream(self):
        stream = self.seed * 100_003 + self.epoch  # one shuffle per (seed, epoch)
        self.sampler.set_epoch(stream)
        return stream

    def _batch(self, indices, stream, step):
        indices = np.asarray(indices)
        _, mean, std = self.dataset.input_args
        pixels, labels = self._mixed(self.dataset.images[indices],
                                     self.dataset.labels[indices], stream, step)
        images = paddle.to_tensor(to_input(pixels, *self.dataset.input_args))
        if self.augment is not None and self.augment.enabled:
            # seeded per batch, so skipped batches need not be drawn
            rng = np.random.RandomState([stream % 2**32, step])
            images = augment_batch(images, rng, self.augment, background=-mean / std)
        return images, paddle.to_tensor(labels[:, None])

    def first_batch(self):
        """(images, labels) the current epoch starts with, exactly as training gets
        them (augmented), without using up or counting anything."""
        stream = self._stream()
        return self._batch(next(iter(self.sampler)), stream, 0)

    def __iter__(self):
        stream = self._stream()
        skip, self.skip = self.skip, 0
        for step, indices in enumerate(self.sampler):
            if step == len(self):
                break
            if step < skip:
                continue
            self.samples_seen += len(indices)
            yield self._batch(indices, stream, step)
        self.epoch += 1

    def _mixed(self, pixels, labels, stream, step):
        """The MNIST batch with its end replaced by the extra sources' samples."""
        if not self.extras:
            return pixels, labels
        rng = np.random.RandomState([stream % 2**32, step, 1])  # apart from augmentation's
        picked = [(extra, rng.randint(0, len(extra.train_labels),
                                      max(1, round(extra.share * len(labels)))))
                  for extra in self.extras]
        keep = max(1, len(labels) - sum(len(chosen) for _, chosen in picked))
        return (np.concatenate([pixels[:keep]] + [e.train_images[c] for e, c in picked]),
                np.concatenate([labels[:keep]] + [e.train_labels[c] for e, c in picked]))


def eval_loader(dataset, batch_size):
    """Batches for Model.evaluate, read in the calling thread: paddle's background
    reader thread hides an exception in a sample and leaves evaluation waiting forever
    (the data is in memory, so the thread saves no measurable time)."""
    sampler = DistributedBatchSampler(dataset, batch_size, shuffle=False)
    return DataLoader(dataset, batch_sampler=sampler, return_list=True, use_buffer_reader=False)
