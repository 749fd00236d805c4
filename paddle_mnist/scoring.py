"""Score a network on an MNIST split through hapi's `Model.evaluate`.

Training scores every epoch this way and `tools/eval.py` scores a saved
checkpoint the same way, so the two figures are the same number. Under
`paddle.distributed.launch` hapi gathers every rank's outputs and drops the
sampler's padding, so the score covers the whole split once on every rank.
"""

import paddle

from .data import ArrayDataset, eval_loader, load_splits
from .errors import ConfigError
from .metrics import MEAN_LOSS, hapi_metrics
from .network import input_size_of, load_network, paddle_model


def datasets_for(config, splits):
    """{'train', 'val', 'test'} -> ArrayDataset (or None) with the config's input."""
    size = input_size_of(config)
    return {name: ArrayDataset(*pair, input_size=size, mean=config.data.mean, std=config.data.std)
            if pair else None for name, pair in splits.items()}


def score_model(model, dataset, batch_size):
    """{'acc', 'loss', 'samples'} of a paddle.Model over a whole dataset.

    `model` is left prepared for evaluation only (any optimizer is dropped).
    """
    model.prepare(loss=paddle.nn.CrossEntropyLoss(), metrics=hapi_metrics())
    result = model.evaluate(eval_loader(dataset, batch_size), verbose=0)
    return {"acc": float(result["acc"]), "loss": float(result[MEAN_LOSS]),
            "samples": len(dataset)}


def score_checkpoint(prefix, overrides=(), split="test"):
    """{'acc', 'loss', 'samples', 'split', 'checkpoint', 'model', 'epoch'} of a checkpoint."""
    loaded = load_network(prefix, overrides)
    config = loaded.config
    dataset = datasets_for(config, load_splits(config.data, config.train.seed))[split]
    if dataset is None:
        raise ConfigError(f"the checkpoint has no '{split}' split (data.val_split is 0)")
    result = score_model(paddle_model(config, loaded.network), dataset,
                         config.train.eval_batch_size)
    return dict(result, split=split, checkpoint=loaded.checkpoint.prefix,
                model=config.model.name, epoch=loaded.epoch)
