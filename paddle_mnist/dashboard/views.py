"""What the dashboard shows, computed in numpy: pictures, features, hyper parameters.

The pictures are the evaluation reports' own figures (`reports.figures`,
`reports.evaluation.mistakes_png`) rendered into memory, so a mistake grid
in VisualDL looks like the one `tools/eval.py --report` writes.
"""

import io

import numpy as np
import paddle
from PIL import Image

from ..config import lookup
from ..network import forward
from ..reports import evaluation, figures, metrics

SAMPLE_IMAGES = 40  # training samples shown at the start
# key settings every run records for VisualDL's HyperParameters tab: name -> config key
HPARAMS = {"model": "model.name", "optimizer": "optimizer.name",
           "learning_rate": "optimizer.learning_rate", "momentum": "optimizer.momentum",
           "batch_size": "train.batch_size", "epochs": "train.epochs",
           "schedule": "optimizer.lr_schedule.name", "augmentation": "data.augment.enabled"}
FINAL_METRICS = ["test/acc", "test/loss", "best/eval_acc", "epoch/train_seconds"]


def _render(draw):
    """RGB uint8 array of the PNG that `draw(file)` writes."""
    buffer = io.BytesIO()
    draw(buffer)
    buffer.seek(0)
    with Image.open(buffer) as image:
        return np.asarray(image.convert("RGB"))


def samples_image(images, labels, mean, std):
    """The first training images as the network sees them (normalised, augmented),
    mapped back to pixels."""
    shown = min(SAMPLE_IMAGES, len(labels))
    pixels = np.clip(np.asarray(images[:shown, 0]) * std + mean, 0, 255).astype(np.uint8)
    captions = [str(int(label)) for label in np.asarray(labels[:shown]).ravel()]
    return _render(lambda out: figures.image_grid_png(
        pixels, captions, out, title="Training samples as the network sees them"))


def mistakes_image(images, labels, probabilities, epoch):
    wrong = int((probabilities.argmax(axis=1) != labels).sum())
    title = f"Epoch {epoch}: most confident of {wrong} mistakes (true as predicted)"
    return _render(lambda out: evaluation.mistakes_png(images, labels, probabilities, out, title))


def confusion_image(labels, probabilities, epoch, split):
    matrix = metrics.confusion_matrix(labels, probabilities.argmax(axis=1),
                                      probabilities.shape[1])
    title = f"Epoch {epoch}, {split} set: {np.trace(matrix) / matrix.sum():.2%} right"
    return _render(lambda out: figures.confusion_matrix_png(matrix, out, title))


def penultimate_features(network, inputs, batch_size):
    """(inputs of the network's last Linear layer [N, F], predicted digits [N]), or
    None for a network without one."""
    linear = [layer for layer in network.sublayers() if isinstance(layer, paddle.nn.Linear)]
    if not linear:
        return None
    captured = []
    hook = linear[-1].register_forward_pre_hook(
        lambda layer, layer_inputs: captured.append(layer_inputs[0].numpy()))
    training = network.training
    network.eval()
    try:
        logits = [forward(network, inputs[start:start + batch_size])
                  for start in range(0, len(inputs), batch_size)]
    finally:
        hook.remove()
        if training:
            network.train()
    return np.concatenate(captured), np.concatenate(logits).argmax(axis=1)


def _hparam_value(value):
    """VisualDL records str, int and float; a switch reads better as true/false."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def hyper_parameters(config):
    """{name: value} of the run's key settings plus `visualdl.hparam_keys`."""
    data = config.to_dict()
    chosen = dict(HPARAMS)
    for key in config.visualdl.hparam_keys:
        if key not in chosen.values():
            chosen[key] = key
    values = {name: _hparam_value(lookup(data, key)) for name, key in chosen.items()}
    if config.optimizer.name != "momentum":
        values["momentum"] = None  # only the momentum optimizer reads it; None is left out
    return values
