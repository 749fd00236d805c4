"""The hapi metric every training and evaluation reports beside Accuracy.

paddle's `loss` in hapi logs is that of the last batch of this rank only, so
it cannot be an epoch's or a test set's score. `WholeSetLoss` averages the
per-sample cross-entropy over everything seen, and its name is the key the
callbacks, the sidecar history and VisualDL read.
"""

import numpy as np
import paddle

MEAN_LOSS = "mean_loss"


class WholeSetLoss(paddle.metric.Metric):
    """Mean cross-entropy over every sample seen, each counted once.

    In evaluation, metrics receive the outputs gathered from all ranks with the
    distributed sampler's padding cut off, so this is the whole set's loss; in
    training it is the running mean of the epoch so far.
    """

    def __init__(self):
        super().__init__()
        self.reset()

    def name(self):
        return MEAN_LOSS

    def compute(self, logits, labels):
        return paddle.nn.functional.cross_entropy(logits, labels, reduction="none")

    def update(self, losses):
        self.total += float(np.sum(losses))
        self.count += int(np.size(losses))

    def reset(self):
        self.total, self.count = 0.0, 0

    def accumulate(self):
        return self.total / max(self.count, 1)


def hapi_metrics():
    """The metrics `Model.prepare` gets everywhere: accuracy and the whole-set loss."""
    return [paddle.metric.Accuracy(), WholeSetLoss()]
