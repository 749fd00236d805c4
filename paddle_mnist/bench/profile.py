"""Where a training step's time goes: paddle.profiler's per-operator CPU time.

Forward ops appear as `<op> dygraph`, their gradients as `<Op>GradNode`
entries. The profiled steps run through the same `Model.fit` path as the
timed ones (`training.measure_paddle`), in a separate run, because recording
every op slows the step down. Whatever the listed ops do not cover is Python
and framework overhead: hapi, the optimizer's bookkeeping, the data loader.
"""

import contextlib
import io

import paddle
import paddle.profiler as profiler
from paddle.profiler.profiler_statistic import StatisticData

from .training import measure_paddle


class _Stepper(paddle.callbacks.Callback):
    def __init__(self, prof):
        super().__init__()
        self.prof = prof

    def on_train_batch_end(self, step, logs=None):
        self.prof.step()


def profile_paddle(config, splits=None, steps=50, warmup=10, top=12):
    """{'batch', 'step_ms', 'ops': [{'op', 'calls_per_step', 'ms_per_step', 'share'}], ...}."""
    prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU],
                             scheduler=(warmup, warmup + steps), on_trace_ready=lambda _: None,
                             timer_only=False)
    prof.start()
    try:
        timed = measure_paddle(config, splits, steps, warmup, windows=1,
                               callbacks=[_Stepper(prof)])
    finally:
        with contextlib.redirect_stdout(io.StringIO()):  # its own timer summary; --json wants none
            prof.stop()
    result = prof.profiler_result
    items = StatisticData(result.get_data(), result.get_extra_info()).event_summary.items
    step_ms = 1000 * timed["global_batch"] / timed["images_per_s"]
    ops = sorted(items.values(), key=lambda item: item.cpu_time, reverse=True)
    rows = [{"op": item.name, "calls_per_step": round(item.call / steps, 2),
             "ms_per_step": round(item.cpu_time / 1e6 / steps, 3),
             "share": round(item.cpu_time / 1e6 / steps / step_ms, 3)} for item in ops]
    listed = sum(row["ms_per_step"] for row in rows)
    return {"batch": timed["batch"], "model": timed["model"], "steps": steps,
            "step_ms": round(step_ms, 3), "ops": rows[:top],
            "other_ops_ms_per_step": round(sum(r["ms_per_step"] for r in rows[top:]), 3),
            "outside_ops_ms_per_step": round(max(step_ms - listed, 0.0), 3)}
