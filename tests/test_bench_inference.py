"""Inference benchmark and the tuned Paddle predictor, on a briefly trained real-MNIST LeNet.

No timing is asserted (speed targets live in the benchmark, not in tests);
what is checked is that every backend is measured on the same model, the
numbers are well formed, and the tuned predictor computes the same logits.
"""

import json
import os

import numpy as np
import pytest

from conftest import REPO, run_tool

BACKENDS = {"dygraph", "paddle", "onnx"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory, mnist_root):
    folder = tmp_path_factory.mktemp("bench")
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=60", cwd=folder, data_root=mnist_root)
    run_tool("export.py", "--resume", "output/mnist", "--onnx", cwd=folder,
             data_root=mnist_root)
    return folder


def test_every_backend_is_timed_at_batch_1_and_the_big_batch(exported, monkeypatch):
    from paddle_mnist.bench.inference import measure_inference

    monkeypatch.chdir(exported)  # the export names its checkpoint relative to here
    rows = measure_inference("inference/mnist", batch1_calls=30, big_batch=12,
                             big_batch_calls=6)
    assert sorted((r["backend"], r["batch"]) for r in rows) == \
        sorted((b, n) for b in BACKENDS for n in (1, 12))
    for row in rows:
        assert 0 < row["p50_us"] <= row["p99_us"], row
        # p50_us is rounded to 0.1 us, images_per_s is not
        assert row["images_per_s"] == pytest.approx(row["batch"] * 1e6 / row["p50_us"],
                                                     rel=0.01)
        assert row["calls"] == (30 if row["batch"] == 1 else 6)
        assert row["max_abs_diff_vs_onnx"] <= 1e-4, row
    onnx = [r for r in rows if r["backend"] == "onnx"]
    assert all(r["p50_vs_onnx"] == 1.0 for r in onnx)
    breakdown = next(r for r in rows if r["backend"] == "paddle" and r["batch"] == 1)
    breakdown = breakdown["breakdown_us"]
    assert {"handles", "predictor_run", "whole_call", "wrapper"} <= set(breakdown)
    # medians timed one after the other: under load their order can flip, so only
    # check each was measured and that the wrapper share is their difference
    assert breakdown["predictor_run"] > 0 and breakdown["whole_call"] > 0
    assert breakdown["wrapper"] == pytest.approx(breakdown["whole_call"] - breakdown["handles"]
                                                 - breakdown["predictor_run"], abs=0.11)
    for row in (r for r in rows if r["backend"] == "paddle"):
        ops = {op["op"]: op for op in row["op_profile"]["ops"]}
        convs = [op for name, op in ops.items() if name.endswith("conv2d")]
        assert convs and all(0 < op["min_us"] <= op["us_per_call"] for op in convs), ops


def test_missing_checkpoint_or_onnx_file_gives_a_skipped_row(exported, tmp_path, mnist_root,
                                                             monkeypatch):
    from paddle_mnist.bench.inference import measure_inference

    # no --onnx; the description names the checkpoint as output/mnist, which
    # is not there when the benchmark runs from another folder
    run_tool("export.py", "--resume", "output/mnist", "--output", tmp_path / "m",
             cwd=exported, data_root=mnist_root)
    monkeypatch.chdir(tmp_path)
    rows = measure_inference("m", batch1_calls=5, big_batch=4, big_batch_calls=2)
    skipped = {r["backend"]: r["skipped"] for r in rows if "skipped" in r}
    assert set(skipped) == {"dygraph", "onnx"}
    assert "checkpoint output/mnist.meta.json" in skipped["dygraph"]
    assert "lists no .onnx file" in skipped["onnx"]
    assert sorted(r["batch"] for r in rows if r["backend"] == "paddle") == [1, 4]


@pytest.mark.parametrize("mkldnn", ["auto", True, False])
def test_tuned_paddle_predictor_gives_the_onnx_and_dygraph_logits(exported, mnist_test, mkldnn):
    from paddle_mnist.predictors import DygraphPredictor, OnnxPredictor, PaddlePredictor

    images = mnist_test[0][-300:]
    paddle_predictor = PaddlePredictor(str(exported / "inference" / "mnist"), mkldnn=mkldnn)
    onnx = OnnxPredictor(str(exported / "inference" / "mnist")).logits(images)
    dygraph = DygraphPredictor(str(exported / "output" / "mnist")).logits(images)
    one_by_one = np.concatenate([paddle_predictor.logits(images[i:i + 1]) for i in range(20)])
    for logits in (paddle_predictor.logits(images), one_by_one):
        assert np.abs(logits - onnx[:len(logits)]).max() <= 1e-4
        assert np.abs(logits - dygraph[:len(logits)]).max() <= 1e-4


def test_export_folds_lenets_linear_layers(exported):
    spec = json.loads((exported / "inference" / "mnist.preprocess.json").read_text())
    assert spec["folded_linear_layers"] == 2
    program = (exported / "inference" / "mnist.json").read_text()
    assert program.count('"1.matmul"') == 1


def test_benchmark_tool_reports_each_backend(exported):
    proc = run_tool("benchmark.py", "infer", "--model", "inference/mnist", "--batch1-calls",
                    "20", "--big-batch", "8", "--big-batch-calls", "4", "--json",
                    cwd=exported)
    report = json.loads(proc.stdout)
    rows = report["results"]
    assert {r["backend"] for r in rows} == BACKENDS
    assert {"cpu_model", "load_average", "load_average_after"} <= set(report["machine"])
    assert all(r["p50_us"] > 0 for r in rows)


def test_mkl_avx2_request_only_on_amd_and_never_over_the_users_choice(monkeypatch):
    from paddle_mnist.cpu import let_mkl_use_avx2_on_amd

    monkeypatch.setenv("MKL_DEBUG_CPU_TYPE", "")  # the documented opt-out
    let_mkl_use_avx2_on_amd()
    assert os.environ["MKL_DEBUG_CPU_TYPE"] == ""
    monkeypatch.delenv("MKL_DEBUG_CPU_TYPE")
    let_mkl_use_avx2_on_amd()
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        amd = "AuthenticAMD" in info.read()
    assert os.environ.get("MKL_DEBUG_CPU_TYPE") == ("5" if amd else None)
