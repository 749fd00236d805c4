"""Markdown and CSV tables, so every tool formats numbers the same way."""

import csv
import math
import os


def percent(value, digits=2):
    """0.98123 -> '98.12%'; None or NaN (no result) -> '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}%}"


def seconds(value):
    return "-" if value is None else f"{value:.1f}"


def markdown(headers, rows):
    """A GitHub-flavoured Markdown table; cells are str()-ed, pipes escaped."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(headers), line(["---"] * len(headers))] + [line(r) for r in rows]) + "\n"


def write_text(path, text):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_csv(path, headers, rows):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path
