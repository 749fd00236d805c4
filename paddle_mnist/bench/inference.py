"""Latency and throughput of one exported model on each predictor backend.

`tools/benchmark.py infer` calls `measure_inference`. It times exactly what
`tools/predict.py` and the web server run: `Predictor.run` of
`paddle_mnist.predictors` on an already normalised float32 batch (the uint8 ->
float preprocessing is the same numpy code for every backend, so it is left
out). Backends: Paddle Inference and ONNX Runtime on the exported files, and
the dygraph network of the checkpoint the export came from (its prefix is in
the export's `.preprocess.json`), when that checkpoint is still there.

On a shared machine the load changes from second to second, so the backends
are timed interleaved (a slice of calls each, round after round) and every
call's time is kept: p50/p99 come from all calls of a backend together.
Python's garbage collector is paused while timing, as `timeit` does, so a
collection triggered by unrelated objects is not charged to one call.
"""

import contextlib
import gc
import io
import os
import time

import numpy as np

from ..exported import SPEC_SUFFIX, model_prefix, read_spec
from ..predictors import DygraphPredictor, OnnxPredictor, PaddlePredictor
from ..data import to_input
from ..errors import ExportError

ROUNDS = 5          # interleaved slices per measurement
WARMUP_CALLS = 50   # untimed batch-1 calls per backend before timing
REFERENCE_IMAGES = 64
PROFILE_CALLS = 1000  # at most this many calls under paddle.profiler per batch size


def measure_inference(prefix, batch1_calls=2000, big_batch=256, big_batch_calls=50):
    """Rows {backend, batch, p50_us, p99_us, images_per_s, ...} for batch 1 and `big_batch`.

    A backend that cannot run here gets one row with `skipped` saying why and
    no timings. `max_abs_diff_vs_onnx` is the largest logit difference from
    ONNX Runtime on the same images (0 for ONNX itself).
    """
    prefix = model_prefix(prefix)
    spec = read_spec(prefix)
    predictors, skipped = _open_backends(prefix, spec)
    size = spec.input_size
    rng = np.random.default_rng(0)  # timings do not depend on pixel values
    images = rng.integers(0, 256, (max(big_batch, REFERENCE_IMAGES), size, size), np.uint8)
    batch = to_input(images, size, spec.mean, spec.std)
    single, big = batch[:1], batch[:big_batch]

    for predictor in predictors.values():
        for _ in range(WARMUP_CALLS):
            predictor.run(single)
        predictor.run(big)
    logits = {name: np.asarray(p.run(batch[:REFERENCE_IMAGES]), np.float32)
              for name, p in predictors.items()}
    reference = logits.get("onnx")

    rows = []
    for batch_size, data, calls in ((1, single, batch1_calls), (big_batch, big, big_batch_calls)):
        times = time_interleaved(predictors, data, calls)
        onnx_p50 = np.percentile(times["onnx"], 50) if "onnx" in times else None
        for name, spent in times.items():
            p50, p99 = np.percentile(spent, 50), np.percentile(spent, 99)
            row = {"backend": name, "batch": batch_size, "p50_us": round(p50, 1),
                   "p99_us": round(p99, 1), "images_per_s": round(batch_size * 1e6 / p50, 1),
                   "calls": len(spent)}
            if onnx_p50:
                row["p50_vs_onnx"] = round(p50 / onnx_p50, 2)
            if reference is not None:
                row["max_abs_diff_vs_onnx"] = float(np.abs(logits[name] - reference).max())
            if name == "paddle":
                if batch_size == 1:
                    row["breakdown_us"] = paddle_call_breakdown(predictors["paddle"], data, calls)
                row["op_profile"] = paddle_op_profile(predictors["paddle"], data,
                                                      min(calls, PROFILE_CALLS))
            rows.append(row)
    rows += [{"backend": name, "batch": None, "p50_us": None, "p99_us": None,
              "images_per_s": None, "skipped": reason} for name, reason in skipped.items()]
    return rows


def _open_backends(prefix, spec):
    """{name: Predictor} for every backend that can run, and {name: why not}."""
    predictors, skipped = {}, {}
    checkpoint = spec.source
    if checkpoint and os.path.isfile(checkpoint + ".meta.json"):
        predictors["dygraph"] = DygraphPredictor(checkpoint)
    else:
        skipped["dygraph"] = (f"checkpoint {checkpoint}.meta.json (named in "
                              f"{prefix + SPEC_SUFFIX}) not found from "
                              f"{os.getcwd()}; run from the folder the export was made in")
    predictors["paddle"] = PaddlePredictor(prefix, spec)
    try:
        predictors["onnx"] = OnnxPredictor(prefix, spec)
    except ExportError as err:
        skipped["onnx"] = str(err)
    return predictors, skipped


def time_interleaved(predictors, data, calls):
    """{name: per-call times in microseconds}, backends taking turns in ROUNDS slices."""
    times = {name: [] for name in predictors}
    slices = [calls // ROUNDS + (i < calls % ROUNDS) for i in range(ROUNDS)]
    collecting = gc.isenabled()
    gc.disable()
    try:
        for count in slices:
            for name, predictor in predictors.items():
                times[name] += _time_calls(predictor.run, data, count)
    finally:
        if collecting:
            gc.enable()
    return {name: np.array(spent) for name, spent in times.items()}


def _time_calls(function, data, count):
    clock = time.perf_counter_ns
    spent = []
    for _ in range(count):
        start = clock()
        function(data)
        spent.append((clock() - start) / 1e3)
    return spent


def paddle_call_breakdown(predictor, single, calls):
    """Median microseconds of each step of one batch-1 `PaddlePredictor.run`.

    `predictor_run` is Paddle's C++ executor alone (`predictor.run()` with the
    input already in place); `handles` is setting the input shape, copying the
    input in and the logits out; `wrapper` is the rest of the Python method
    (lock, batch-size dispatch, contiguity check).
    """
    session = predictor.small
    session.run(single)
    steps = {
        "handles": lambda _: (session.input.reshape(single.shape),
                              session.input.copy_from_cpu(single),
                              session.output.copy_to_cpu()),
        "predictor_run": lambda _: session.predictor.run(),
        "whole_call": predictor.run,
    }
    times = time_interleaved({name: _Call(step) for name, step in steps.items()}, single, calls)
    medians = {name: round(float(np.median(spent)), 1) for name, spent in times.items()}
    medians["wrapper"] = round(medians["whole_call"] - medians["handles"]
                               - medians["predictor_run"], 1)
    return medians


def paddle_op_profile(predictor, data, calls, top=8):
    """Where a `PaddlePredictor.run` call's time goes, per operator, from paddle.profiler.

    The executor records every op it runs; `us_per_call` is an op's CPU time
    per call summed over its instances, `min_us` its fastest single instance
    (what it costs when nothing else competes for the core). Recording slows
    calls down, so these calls are separate from the timed ones; `outside_ops_us`
    is the rest of a call under the profiler (executor, handles, Python).
    """
    import paddle.profiler as profiler
    from paddle.profiler.profiler_statistic import StatisticData

    prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU],
                             on_trace_ready=lambda _: None, timer_only=False)
    prof.start()
    start = time.perf_counter()
    for _ in range(calls):
        predictor.run(data)
    call_us = (time.perf_counter() - start) * 1e6 / calls
    with contextlib.redirect_stdout(io.StringIO()):  # its own summary; --json wants none
        prof.stop()
    result = prof.profiler_result
    items = StatisticData(result.get_data(), result.get_extra_info()).event_summary.items
    ops = sorted(items.values(), key=lambda item: item.cpu_time, reverse=True)
    rows = [{"op": item.name, "calls_per_call": round(item.call / calls, 2),
             "us_per_call": round(item.cpu_time / 1e3 / calls, 1),
             "min_us": round(item.min_cpu_time / 1e3, 1)} for item in ops]
    return {"calls": calls, "us_per_call": round(call_us, 1), "ops": rows[:top],
            "outside_ops_us": round(call_us - sum(row["us_per_call"] for row in rows), 1)}


class _Call:
    """Gives a bare function the `.run(batch)` shape `time_interleaved` times."""

    def __init__(self, function):
        self.run = function
