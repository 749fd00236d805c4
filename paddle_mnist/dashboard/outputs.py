"""The evaluation's predictions, for the dashboard, without a second forward pass.

Mistakes, the confusion matrix and the PR curves need every evaluation
image's probabilities. Running the network over the evaluation set again
would cost a tenth of a LeNet epoch; hapi already hands each metric of
`Model.prepare` the outputs of the whole set (gathered from all ranks, the
distributed sampler's padding cut off). `EvalOutputs` is such a metric: it
keeps those outputs while the dashboard has it switched on, and reports no
value of its own, so progress bars and logs are unchanged.
"""

import numpy as np
import paddle


def wants_eval_outputs(config):
    """Does the dashboard of this config use the evaluation's predictions?"""
    shown = config.visualdl
    return shown.enabled and (shown.images or shown.pr_curves or shown.roc_curves)


class EvalOutputs(paddle.metric.Metric):
    """Collects softmax probabilities and labels while `active`; `last` holds the
    (probabilities [N, classes], labels [N]) of the latest finished pass."""

    def __init__(self):
        super().__init__()
        self.active, self.last, self._parts = False, None, []

    def name(self):
        return []  # no entry in hapi's logs

    def compute(self, logits, labels):
        if not self.active:
            return []  # training batches: nothing to convert or keep
        return [paddle.nn.functional.softmax(logits), labels]

    def update(self, probabilities=None, labels=None):
        if probabilities is not None:
            self._parts.append((probabilities, labels))

    def reset(self):
        # hapi resets metrics at the end of a pass, before on_eval_end reads them
        if self._parts:
            self.last = (np.concatenate([p for p, _ in self._parts]),
                         np.concatenate([l for _, l in self._parts]).ravel())
        self._parts = []

    def accumulate(self):
        return []
