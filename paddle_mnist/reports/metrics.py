"""Classification metrics from labels and predicted probabilities, in plain numpy.

Kept free of paddle so the numbers in a report can be checked by hand and
tested without a network: rows of the confusion matrix are true digits,
columns are predictions.
"""

import numpy as np


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def cross_entropy(probs, labels):
    """Mean negative log-likelihood of the true labels (probabilities clipped at 1e-12)."""
    picked = probs[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def confusion_matrix(labels, predictions, num_classes=10):
    """[true, predicted] counts as an int64 (num_classes, num_classes) array."""
    flat = np.asarray(labels) * num_classes + np.asarray(predictions)
    return np.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class(matrix):
    """Precision, recall, F1 and support of each class.

    A class that is never predicted (or never present) gets precision (recall)
    0.0 rather than NaN, so the JSON stays valid and the weakness stays visible.
    """
    correct = np.diag(matrix).astype(float)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(correct, predicted, out=np.zeros_like(correct), where=predicted > 0)
    recall = np.divide(correct, actual, out=np.zeros_like(correct), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(correct), where=both > 0)
    return [{"class": k, "precision": float(precision[k]), "recall": float(recall[k]),
             "f1": float(f1[k]), "support": int(actual[k])} for k in range(len(matrix))]


def confused_pairs(matrix, top=5):
    """The digit pairs mixed up most often, counting both directions.

    Each pair is ordered so that `a` is mistaken for `b` at least as often as
    the other way round: {"a", "b", "count", "a_as_b", "b_as_a"}.
    """
    pairs = []
    for i in range(len(matrix)):
        for j in range(i + 1, len(matrix)):
            forward, backward = int(matrix[i, j]), int(matrix[j, i])
            if forward + backward:
                a, b = (i, j) if forward >= backward else (j, i)
                pairs.append({"a": a, "b": b, "count": forward + backward,
                              "a_as_b": max(forward, backward), "b_as_a": min(forward, backward)})
    pairs.sort(key=lambda p: (-p["count"], p["a"], p["b"]))
    return pairs[:top]


def mistakes_by_confidence(labels, probs):
    """Indices of misclassified samples, most confident wrong prediction first."""
    predictions = probs.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probs[wrong, predictions[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]
