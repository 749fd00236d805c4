"""Benchmarks behind `tools/benchmark.py`: how fast the toolkit trains and predicts.

`training` times the path `tools/train.py` trains through
(`engine.build_training` -> paddle.Model.fit), `profile` splits that step per
operator, and
`torch_reference` the same network in a plain PyTorch eager loop, so the two
can be compared as a ratio measured in one run on one machine. `inference`
times an exported model through each predictor backend; `dashboard` what the
VisualDL dashboard adds to a whole training run. `machine` says what
the figures were measured on. PyTorch is an optional dependency of the
benchmark only (requirements-bench.txt), never of the toolkit.
"""
