"""VisualDL as the whole dashboard of a training run, continuous across resumes.

A run (with every leg of it after Ctrl-C, a kill or `--resume`) is one
VisualDL run: one folder, one record file, one line per scalar (`records`).
What it shows, and when, is `callback.Dashboard`'s docstring; the config's
`visualdl:` section switches each part. `writer.Writer` is VisualDL's
LogWriter with its PR/ROC curves and graph working on numpy 2 and paddle 3.
Training code only: nothing that uses a trained model imports this package.
"""

import contextlib

from ..distributed import is_main_process
from .outputs import EvalOutputs, wants_eval_outputs

__all__ = ["EvalOutputs", "opened", "wants_eval_outputs"]


@contextlib.contextmanager
def opened(training, state):
    """The run's `Dashboard` on the main process when `visualdl.enabled`, else
    None; closed on the way out, whatever happens."""
    if not (training.config.visualdl.enabled and is_main_process()):
        yield None
        return
    from .callback import Dashboard  # imports VisualDL

    dashboard = Dashboard(training, state).open()
    try:
        yield dashboard
    finally:
        dashboard.close()
