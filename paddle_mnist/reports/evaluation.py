"""`tools/eval.py --report DIR`: score a checkpoint image by image and explain it.

`scoring.score_checkpoint` gives one accuracy; a report needs every
prediction, so the network is run here directly (`network.forward`, in eval
mode, without gradients) on the same `to_input` pixels training evaluates,
and everything else is computed from those probabilities in `metrics`.
"""

import json
import os
import statistics
import time

import numpy as np

from . import figures, metrics

GRID_IMAGES = 40        # images in mistakes.png and samples.png
TIMED_SINGLE_CALLS = 50


def predict(network, inputs, batch_size):
    """(probabilities [N,10], seconds spent in the forward passes)."""
    from ..network import forward

    forward(network, inputs[:batch_size])  # warm-up: first calls allocate and pick kernels
    started = time.perf_counter()
    logits = [forward(network, inputs[start:start + batch_size])
              for start in range(0, len(inputs), batch_size)]
    seconds = time.perf_counter() - started
    return metrics.softmax(np.concatenate(logits)), seconds


def single_image_ms(network, inputs):
    """Median latency of one image, the case of a user recognising one photo."""
    from ..network import forward

    timings = []
    for index in range(TIMED_SINGLE_CALLS + 3):
        started = time.perf_counter()
        forward(network, inputs[index:index + 1])
        timings.append(time.perf_counter() - started)
    return statistics.median(timings[3:]) * 1000


def make_report_folder(out_dir):
    """Create the report folder, or say in one line why it cannot be."""
    from ..errors import ConfigError

    try:
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise NotADirectoryError(0, "it is a file, not a folder")
        os.makedirs(out_dir, exist_ok=True)
        probe = os.path.join(out_dir, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as err:
        raise ConfigError(f"cannot write the report to {out_dir}: {err.strerror or err}; "
                          "choose another --report folder") from None


def mistakes_png(images, labels, probs, path, title=None):
    """The most confident mistakes (uint8 `images`, their `labels` and predicted
    `probs`), captioned "true as predicted" with the probability given."""
    predictions = probs.argmax(axis=1)
    ranked = metrics.mistakes_by_confidence(labels, probs)
    wrong = ranked[:GRID_IMAGES]
    title = title or f"Most confident mistakes ({len(ranked)} in all): true as predicted"
    return figures.image_grid_png(
        images[wrong], [f"{labels[i]} as {predictions[i]}\n{probs[i, predictions[i]]:.0%}"
                        for i in wrong], path, title=title)


def build_report(prefix, out_dir, overrides=(), split="test"):
    """Write report.json and the three PNGs into `out_dir`; returns the report dict."""
    import paddle

    from ..data import load_splits, to_input
    from ..errors import ConfigError
    from ..network import load_network
    from ..scoring import datasets_for

    make_report_folder(out_dir)  # before the work, so a bad --report fails at once
    loaded = load_network(prefix, overrides)
    config, network = loaded.config, loaded.network
    dataset = datasets_for(config, load_splits(config.data, config.train.seed))[split]
    if dataset is None:
        raise ConfigError(f"the checkpoint has no '{split}' split (data.val_split is 0)")
    images, labels = dataset.images, dataset.labels
    inputs = to_input(images, *dataset.input_args)
    batch = config.train.eval_batch_size
    probs, seconds = predict(network, inputs, batch)
    predictions = probs.argmax(axis=1)
    matrix = metrics.confusion_matrix(labels, predictions)
    classes = metrics.per_class(matrix)
    report = {
        "checkpoint": loaded.checkpoint.prefix, "model": config.model.name, "split": split,
        "epoch": loaded.epoch, "samples": int(len(labels)),
        "accuracy": float(np.trace(matrix) / matrix.sum()),
        "loss": metrics.cross_entropy(probs, labels),
        "macro_f1": float(np.mean([c["f1"] for c in classes])),
        "per_class": classes, "confusion_matrix": matrix.tolist(),
        "confused_pairs": metrics.confused_pairs(matrix),
        "mistakes": int((predictions != labels).sum()),
        "inference": {"device": paddle.get_device(), "batch_size": batch,
                      "ms_per_image_batched": seconds * 1000 / len(labels),
                      "ms_per_image_single": single_image_ms(network, inputs)},
    }
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    title = f"{config.model.name}, {split} set: {report['accuracy']:.2%} of {len(labels)}"
    figures.confusion_matrix_png(matrix, os.path.join(out_dir, "confusion_matrix.png"), title)
    mistakes_png(images, labels, probs, os.path.join(out_dir, "mistakes.png"))
    shown = np.arange(min(GRID_IMAGES, len(labels)))
    figures.image_grid_png(
        images[shown], [f"{predictions[i]} ({probs[i, predictions[i]]:.0%})" for i in shown],
        os.path.join(out_dir, "samples.png"),
        colors=[figures.RIGHT if predictions[i] == labels[i] else figures.WRONG for i in shown],
        title=f"First {len(shown)} {split} images: prediction (probability)")
    return report
