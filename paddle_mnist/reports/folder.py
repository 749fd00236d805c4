"""`tools/eval.py --images DIR`: how well a model reads a labelled folder of images.

MNIST's test set says how a network does on MNIST; users care how it does on
their own scans and photos. This scores any predictor (exported model or
checkpoint) on a folder read by `data.folders.read_labelled_folder`, through
exactly the path `tools/predict.py` takes (`predict.predict_files`: the same
preprocessing, batching and refusals), and explains the result: accuracy,
refusals and why, per-class accuracy, the most confused pairs, and with
`--report` the confusion matrix and a grid of the mistakes showing each
original image beside the 28x28 the model saw.
"""

import collections
import json
import os

import numpy as np
from PIL import Image

from ..data.folders import read_labelled_folder
from ..errors import ImageError
from ..images import load_image, to_gray
from ..predict import predict_files
from . import figures, metrics

GRID_IMAGES = 40
TILE = 28   # side of each half of a mistakes-grid tile
GAP = 2     # pixels between the original and the model's input


def evaluate_folder(predictor, folder, batch_size=64):
    """The report dict of `predictor` on the labelled images under `folder`."""
    classes = list(predictor.class_names)
    items = read_labelled_folder(folder, classes=classes)
    truth = dict(items)
    correct, refusals, mistakes, matrix_pairs = 0, [], [], []
    for result in predict_files(predictor, [path for path, _ in items], topk=1,
                                batch_size=batch_size):
        label = truth[result.file]
        if result.error:
            refusals.append({"file": result.file, "label": label,
                             "reason": _reason(result.error, result.file)})
            continue
        matrix_pairs.append((classes.index(label), classes.index(result.label)))
        if result.label == label:
            correct += 1
        else:
            mistakes.append({"file": result.file, "label": label, "predicted": result.label,
                             "probability": round(result.probability, 6)})
    true, predicted = (np.array(column, int) for column in zip(*matrix_pairs)) \
        if matrix_pairs else (np.zeros(0, int), np.zeros(0, int))
    matrix = metrics.confusion_matrix(true, predicted, num_classes=len(classes))
    refused_per_class = collections.Counter(r["label"] for r in refusals)
    per_class = []
    for k, scores in enumerate(metrics.per_class(matrix)):
        samples = int(matrix[k].sum()) + refused_per_class[classes[k]]
        per_class.append(dict(scores, **{"class": classes[k], "samples": samples,
                                         "correct": int(matrix[k, k]),
                                         "refused": refused_per_class[classes[k]],
                                         "accuracy": float(matrix[k, k] / samples) if samples else 0.0}))
    pairs = [dict(p, a=classes[p["a"]], b=classes[p["b"]])
             for p in metrics.confused_pairs(matrix)]
    mistakes.sort(key=lambda m: -m["probability"])
    return {"folder": os.fspath(folder), "model": predictor.spec.model,
            "source": predictor.spec.source, "samples": len(items),
            "correct": correct, "accuracy": correct / len(items), "refused": len(refusals),
            "refusal_reasons": dict(collections.Counter(r["reason"] for r in refusals)
                                    .most_common()),
            "per_class": per_class, "confusion_matrix": matrix.tolist(),
            "confused_pairs": pairs, "mistakes": mistakes, "refusals": refusals}


def _reason(error, path):
    """An error line without the file's name, so equal reasons group together."""
    return error.replace(f"{path}: ", "").replace(path, "the file")


def write_report(report, predictor, out_dir):
    """report.json, confusion_matrix.png and mistakes.png into `out_dir`."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    title = (f"{report['model']} on {os.path.basename(os.path.normpath(report['folder']))}: "
             f"{report['accuracy']:.2%} of {report['samples']}")
    figures.confusion_matrix_png(np.array(report["confusion_matrix"]),
                                 os.path.join(out_dir, "confusion_matrix.png"), title)
    shown = (report["refusals"] + report["mistakes"])[:GRID_IMAGES]
    tiles, captions = [], []
    for result in predict_files(predictor, [m["file"] for m in shown], topk=1):
        tiles.append(mistake_tile(result.file, result.digit))
    for item in shown:
        captions.append(f"{item['label']} refused" if "reason" in item else
                        f"{item['label']} as {item['predicted']}\n{item['probability']:.0%}")
    figures.image_grid_png(
        np.stack(tiles) if tiles else np.zeros((0, TILE, 2 * TILE + GAP), np.uint8), captions,
        os.path.join(out_dir, "mistakes.png"), cols=8,
        title=f"Refusals and most confident mistakes ({report['refused']} + "
              f"{len(report['mistakes'])}): true as predicted; the image, then what the "
              f"model saw")
    return out_dir


def mistake_tile(path, digit):
    """uint8 [28, 58]: the original image fitted into 28x28 (aspect kept, on its own
    paper colour) beside the 28x28 input the model saw (black when refused)."""
    tile = np.full((TILE, 2 * TILE + GAP), 255, np.uint8)
    tile[:, TILE + GAP:] = digit if digit is not None else 0
    try:
        gray = to_gray(load_image(path))
    except ImageError:  # refused as unreadable: nothing to show but the caption
        return tile
    scale = TILE / max(gray.shape)
    size = [max(1, round(n * scale)) for n in reversed(gray.shape)]
    small = np.asarray(Image.fromarray(np.round(gray * 255).astype(np.uint8)).resize(
        size, Image.BOX))
    paper = np.full((TILE, TILE), int(np.median(small)), np.uint8)
    top, left = (TILE - small.shape[0]) // 2, (TILE - small.shape[1]) // 2
    paper[top:top + small.shape[0], left:left + small.shape[1]] = small
    tile[:, :TILE] = paper
    return tile
