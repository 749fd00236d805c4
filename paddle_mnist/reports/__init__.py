"""Evaluation reports, training curves, tables and figures for the tools.

`metrics` and `tables` are plain numpy/stdlib; `figures` draws with
matplotlib's Agg canvas; `evaluation` is the only module that runs paddle.
"""
