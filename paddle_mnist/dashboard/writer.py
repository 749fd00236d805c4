"""VisualDL's `LogWriter` with the two methods that break on this stack repaired.

VisualDL 2.5.3 (its latest release) predates numpy 2 and paddle 3:

- `add_pr_curve` and `add_roc_curve` compute their counts with
  `labels.astype(np.float)`, an alias numpy 2 removed, so both raise
  AttributeError before writing anything. `Writer` computes the same counts
  (true/false positives at evenly spaced thresholds, as VisualDL's
  `compute_curve` defines them) in plain numpy and hands them to VisualDL's
  own record builders `pr_curve_raw` / `roc_curve_raw`, so the records are
  the ones VisualDL would write, with two corrections: VisualDL's ROC divides
  the true positives by the negatives, `tp / (tn + fp)` (here tpr is
  tp / (tp + fn)), and gives a threshold nothing passes precision 0, which
  draws a false line from the origin (here it is 1, as usual at recall 0).
- `add_graph` traces the network with `paddle.jit.save` and reads back
  `temp.pdmodel`, the ProgramDesc file of paddle 2. Paddle 3 saves its new
  PIR program as `temp.json` instead, so the read fails. Paddle still has the
  old IR behind `paddle.pir_utils.DygraphOldIrGuard`, a context manager that
  switches to it and back; `Writer.add_graph` runs VisualDL's own method
  inside it, so the graph is VisualDL's and nothing outside the call changes.
  Paddle 3.3's old IR lacks some ops (`tanh`, so `lenet5_classic`), which
  then raise; the dashboard says so and goes on without the graph.

Nothing here patches numpy or VisualDL globally: only `Writer` objects behave
differently. tests/test_dashboard_writer.py calls the unpatched methods and
expects them to fail as described, so it tells when an upgrade makes this
module unnecessary.
"""

import time
import warnings

import numpy as np
from visualdl import LogWriter
from visualdl.component.base_component import pr_curve_raw, roc_curve_raw

CURVE_THRESHOLDS = 127  # VisualDL's own maximum for a curve


def curve_counts(labels, scores, thresholds=CURVE_THRESHOLDS):
    """(tp, fp, tn, fn) int arrays: at threshold i/(thresholds-1), the samples with
    score >= it counted as positive. `labels` are 0/1, `scores` in [0, 1]."""
    labels = np.asarray(labels).astype(bool).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    cuts = np.arange(thresholds) / (thresholds - 1)
    positive, negative = np.sort(scores[labels]), np.sort(scores[~labels])
    tp = len(positive) - np.searchsorted(positive, cuts, side="left")
    fp = len(negative) - np.searchsorted(negative, cuts, side="left")
    return tp, fp, len(negative) - fp, len(positive) - tp


def _ratio(numerator, denominator, empty=0.0):
    """numerator / denominator, `empty` where the denominator is 0."""
    ratio = numerator / np.maximum(denominator, 1)
    return np.where(denominator > 0, ratio, empty).astype(float).tolist()


class Writer(LogWriter):
    """`visualdl.LogWriter` whose PR curves, ROC curves and graphs work with numpy 2
    and paddle 3; every other method is VisualDL's."""

    def _add_curve(self, build, tag, labels, predictions, step, num_thresholds, walltime,
                   rates):
        tp, fp, tn, fn = curve_counts(labels, predictions, num_thresholds)
        first, second = rates(tp, fp, tn, fn)
        self._get_file_writer().add_record(build(
            tag, tp.tolist(), fp.tolist(), tn.tolist(), fn.tolist(), first, second,
            step, round(time.time() * 1000) if walltime is None else walltime))

    def add_pr_curve(self, tag, labels, predictions, step, num_thresholds=CURVE_THRESHOLDS,
                     walltime=None):
        """Precision and recall of `predictions` (scores in [0, 1]) against binary `labels`."""
        self._add_curve(pr_curve_raw, tag, labels, predictions, step, num_thresholds, walltime,
                        lambda tp, fp, tn, fn: (_ratio(tp, tp + fp, empty=1.0),
                                                _ratio(tp, tp + fn)))

    def add_roc_curve(self, tag, labels, predictions, step, num_thresholds=CURVE_THRESHOLDS,
                      walltime=None):
        """True and false positive rates of `predictions` against binary `labels`."""
        self._add_curve(roc_curve_raw, tag, labels, predictions, step, num_thresholds, walltime,
                        lambda tp, fp, tn, fn: (_ratio(tp, tp + fn), _ratio(fp, fp + tn)))

    def add_graph(self, model, input_spec, verbose=False):
        """VisualDL's add_graph, traced in paddle's old IR. VisualDL converts `model`
        in place (to_static, renamed sublayers): pass a network that is not trained."""
        from paddle.pir_utils import DygraphOldIrGuard

        with DygraphOldIrGuard(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # to_static's advice on full_graph, not ours to act on
            super().add_graph(model, input_spec, verbose)
