"""Score the number reader on a folder of labelled pictures of numbers.

`tools/eval.py --numbers DIR` reads every picture of DIR with the reader
of `tools/predict.py --number` and compares it with the number in its file
name: the last part of the name (split at "_") made only of digits, lines
separated by "-" (`017_4071_photo.jpg` is 4071, `003_12-345.png` is 12 over
345), and the part after it (`photo`) its style, reported separately.

Whole numbers are right or wrong; digits are counted by edit distance, so a
digit the reader missed, one it added and one it read wrong are three
different mistakes. A reading with another number of digits than the truth
is a segmentation failure (the digits were cut wrongly); the same count
with wrong digits is a recognition failure. Each failure is listed.
"""

import os
import re

from ..numbers import read_files

LABEL = re.compile(r"\d+(?:-\d+)*")


def label_of(path):
    """(number with "\\n" between lines, style) from a file name, or (None, None)."""
    parts = os.path.splitext(os.path.basename(path))[0].split("_")
    for index in range(len(parts) - 1, -1, -1):
        if LABEL.fullmatch(parts[index]):
            return parts[index].replace("-", "\n"), "_".join(parts[index + 1:]) or "-"
    return None, None


def edit_counts(truth, read):
    """(missed, extra, wrong) digits of the cheapest edit from `truth` to `read`."""
    rows, cols = len(truth) + 1, len(read) + 1
    cost = [[(0, 0, 0)] * cols for _ in range(rows)]
    for i in range(1, rows):
        cost[i][0] = (i, 0, 0)
    for j in range(1, cols):
        cost[0][j] = (0, j, 0)
    for i in range(1, rows):
        for j in range(1, cols):
            same = truth[i - 1] == read[j - 1]
            options = [(cost[i - 1][j - 1][0], cost[i - 1][j - 1][1],
                        cost[i - 1][j - 1][2] + (0 if same else 1)),
                       (cost[i - 1][j][0] + 1, cost[i - 1][j][1], cost[i - 1][j][2]),
                       (cost[i][j - 1][0], cost[i][j - 1][1] + 1, cost[i][j - 1][2])]
            cost[i][j] = min(options, key=lambda c: (sum(c), c[2]))
    return cost[-1][-1]


def evaluate_numbers(predictor, folder):
    """The report of reading every labelled picture in `folder`."""
    files = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if label_of(name)[0] is not None)
    if not files:
        from ..errors import DataError

        raise DataError(f"{folder} holds no pictures named with their number, e.g. "
                        "017_4071_photo.jpg (tools/compose.py writes such folders)")
    totals = {"numbers": 0, "exact": 0, "digits": 0, "missed": 0, "extra": 0, "wrong": 0}
    styles, failures = {}, []
    for reading in read_files(predictor, files):
        truth, style = label_of(reading.file)
        read = "" if reading.error else reading.number
        missed, extra, wrong = edit_counts(truth.replace("\n", ""), read.replace("\n", ""))
        exact = read == truth
        for key, value in (("numbers", 1), ("exact", int(exact)),
                           ("digits", len(truth.replace("\n", ""))), ("missed", missed),
                           ("extra", extra), ("wrong", wrong)):
            totals[key] += value
            styles.setdefault(style, dict.fromkeys(totals, 0))[key] += value
        if not exact:
            kind = ("no digits" if reading.error else "segmentation"
                    if len(read.replace("\n", "")) != len(truth.replace("\n", "")) or
                    read.count("\n") != truth.count("\n") else "recognition")
            failures.append({"file": reading.file, "truth": truth, "read": read,
                             "kind": kind, "error": reading.error})
    return {"folder": folder, **rates(totals),
            "styles": {name: rates(counts) for name, counts in sorted(styles.items())},
            "failures": failures}


def rates(counts):
    digits = max(counts["digits"], 1)
    errors = counts["missed"] + counts["extra"] + counts["wrong"]
    return {**counts, "exact_rate": round(counts["exact"] / max(counts["numbers"], 1), 4),
            "digit_accuracy": round(max(0.0, 1 - errors / digits), 4)}


def summary(report):
    """The report as text: totals, one line per style, then the failures."""
    def line(name, r):
        return (f"{name:>8}: {r['exact']}/{r['numbers']} numbers exact ({r['exact_rate']:.1%}), "
                f"digits {r['digit_accuracy']:.2%} right ({r['missed']} missed, {r['extra']} "
                f"extra, {r['wrong']} wrong of {r['digits']})")
    kinds = {}
    for failure in report["failures"]:
        kinds[failure["kind"]] = kinds.get(failure["kind"], 0) + 1
    text = [f"numbers in {report['folder']}", line("all", report)]
    text += [line(name, r) for name, r in report["styles"].items()]
    text.append("failures: " + (", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                                or "none"))
    text += [f"  {f['kind']:>12}: {f['file']}: read {f['read']!r} for {f['truth']!r}"
             + (f" ({f['error']})" if f["error"] else "") for f in report["failures"]]
    return "\n".join(text)
