"""Tables and figures of a sweep (heatmap) and of an ablation (bar chart).

Both read the records `paddle_mnist.sweep.run` returns, so what a table shows
is exactly what was recorded in the sweep folder's results.jsonl.
"""

import math
import os

import numpy as np

from . import figures, tables


def _eval_header(records):
    splits = sorted({r["eval_split"] for r in records})
    return f"best {'/'.join(splits)} accuracy"


def write_sweep_report(sweep, records):
    """sweep.md, sweep.csv and (for one or two grid keys) heatmap.png; returns the paths."""
    headers = ["point"] + sweep.keys + ["test accuracy", _eval_header(records), "epochs",
                                        "seconds/epoch", "time (s)", "diverged"]
    csv_rows, md_rows = [], []
    for r in records:
        keys = [r["settings"].get(k) for k in sweep.keys]
        csv_rows.append([r["name"]] + keys + [r["test_acc"], r["best_eval_acc"], r["epochs"],
                                              r["seconds_per_epoch"], r["seconds"],
                                              "yes" if r["diverged"] else "no"])
        md_rows.append([r["label"]] + keys + [tables.percent(r["test_acc"]),
                                              tables.percent(r["best_eval_acc"]), r["epochs"],
                                              tables.seconds(r["seconds_per_epoch"]),
                                              tables.seconds(r["seconds"]),
                                              "yes" if r["diverged"] else "no"])
    title = f"Sweep of {os.path.basename(sweep.source)} over {' x '.join(sweep.keys) or 'points'}"
    paths = [tables.write_text(os.path.join(sweep.folder, "sweep.md"),
                               f"# {title}\n\n" + tables.markdown(headers, md_rows)),
             tables.write_csv(os.path.join(sweep.folder, "sweep.csv"), headers, csv_rows)]
    if 1 <= len(sweep.keys) <= 2:
        paths.append(write_heatmap(sweep, records, f"{os.path.basename(sweep.source)}: "
                                                    "test accuracy"))
    return paths


def write_heatmap(sweep, records, title):
    """Test accuracy over the grid: first key down, second key across."""
    rows_key, cols_key = (sweep.keys + [None])[:2]
    row_values = list(dict.fromkeys(r["settings"][rows_key] for r in records))
    col_values = list(dict.fromkeys(r["settings"].get(cols_key) for r in records))
    grid = np.full((len(row_values), len(col_values)), math.nan)
    for r in records:
        if not r["diverged"]:
            grid[row_values.index(r["settings"][rows_key]),
                 col_values.index(r["settings"].get(cols_key))] = r["test_acc"]
    path = os.path.join(sweep.folder, "heatmap.png")
    return figures.heatmap_png(grid, row_values, [str(c) if cols_key else "" for c in col_values],
                               rows_key, cols_key or "", path, title)


def write_ablation_report(sweep, records, out_dir=None):
    """ablation.md and ablation.png: one row per variant with the study's number."""
    out_dir = out_dir or sweep.folder
    headers = ["variant", "test accuracy", "study reports", "seconds/epoch", "epochs run"]
    rows = [[r["label"], "diverged" if r["diverged"] else tables.percent(r["test_acc"]),
             tables.percent(r["reference"], 1), tables.seconds(r["seconds_per_epoch"]),
             f"{r['epochs']}" + (" (stopped early)" if r["stopped_early"] else "")]
            for r in records]
    table = tables.write_text(os.path.join(out_dir, "ablation.md"),
                              f"# Ablation: {sweep.source}\n\n" + tables.markdown(headers, rows))
    values = [math.nan if r["test_acc"] is None else r["test_acc"] for r in records]
    chart = figures.bar_chart_png([r["label"] for r in records], values,
                                  os.path.join(out_dir, "ablation.png"), "Ablation: test accuracy",
                                  references=[r["reference"] for r in records])
    return [table, chart]
