"""How fast the real recognition server answers a canvas drawing, record committed.

`tools/benchmark.py serve` starts `paddle-mnist serve` as its own process on
a free port with a new SQLite file (or `--db`), draws digits the way the
web page does (dark round-capped strokes on a white canvas, PNG), and POSTs
them one at a time over one keep-alive connection, timing each round trip.
A 200 answer from /api/predict means its record was committed, so the time
includes the database write; at the end /api/stats must count every request.
The server's `Server-Timing` header splits each answer into decode,
preprocess, model and record, so the report shows where the time goes.
"""

import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from ..errors import UserError
from . import machine

TARGET_MS = 10.0
STARTUP_SECONDS = 180
URL_LINE = re.compile(r"at http://([^:/\s]+):(\d+)/")
# pen paths of a few digits, in fractions of the canvas side, as a person draws them
STROKES = {
    "7": [[(0.28, 0.22), (0.72, 0.22), (0.42, 0.85)]],
    "1": [[(0.45, 0.3), (0.55, 0.18), (0.55, 0.85)]],
    "4": [[(0.6, 0.85), (0.6, 0.18), (0.25, 0.62), (0.78, 0.62)]],
    "0": [[(0.5, 0.18), (0.3, 0.35), (0.3, 0.68), (0.5, 0.85), (0.7, 0.68), (0.7, 0.35),
           (0.5, 0.18)]],
}


def canvas_drawing(digit, side):
    """The PNG the page sends for `digit` drawn on a side x side canvas."""
    image = Image.new("RGB", (side, side), "white")
    pen = ImageDraw.Draw(image)
    width = max(1, round(0.065 * side))  # the page's PEN_WIDTH
    for path in STROKES[digit]:
        points = [(x * side, y * side) for x, y in path]
        pen.line(points, fill=(27, 31, 36), width=width, joint="curve")
        for x, y in points:  # round caps
            pen.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2],
                        fill=(27, 31, 36))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def start_server(model, db, backend, folder):
    out = open(folder / "serve.out", "w")
    err = open(folder / "serve.err", "w")
    proc = subprocess.Popen([sys.executable, "-m", "paddle_mnist", "serve", "--model", model,
                             "--port", "0", "--db", db, "--backend", backend],
                            stdout=out, stderr=err, cwd=folder)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not (match := URL_LINE.search((folder / "serve.out").read_text())):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise UserError("the server did not start: "
                            + ((folder / "serve.err").read_text().strip().splitlines() or
                               ["no output"])[-1])
        time.sleep(0.1)
    return proc, match.group(1), int(match.group(2))


def server_timing(header):
    return {part.split(";")[0].strip(): float(part.split("dur=")[1])
            for part in header.split(",") if "dur=" in part}


def measure_serving(model, db=None, backend="paddle", requests=500, warmup=20, side=280):
    before = machine.load_average()
    with tempfile.TemporaryDirectory(prefix="paddle-mnist-bench-") as folder:
        folder = Path(folder)
        db = db or str(folder / "records.db")
        proc, host, port = start_server(os.path.abspath(model) if os.path.exists(
            model + ".preprocess.json") else model, db, backend, folder)
        try:
            drawings = [canvas_drawing(digit, side) for digit in STROKES]
            connection = http.client.HTTPConnection(host, port, timeout=60)
            rounds, parts = [], []
            for step in range(warmup + requests):
                body = drawings[step % len(drawings)]
                started = time.perf_counter()
                connection.request("POST", "/api/predict", body=body,
                                   headers={"Content-Type": "image/png"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                spent = (time.perf_counter() - started) * 1000
                if response.status != 200 or "id" not in answer:
                    raise UserError(f"the server answered {response.status}: "
                                    f"{answer.get('error', answer)}")
                if step >= warmup:
                    rounds.append(spent)
                    parts.append(server_timing(response.getheader("Server-Timing", "")))
            connection.request("GET", "/api/stats")
            stats = json.loads(connection.getresponse().read())
            connection.close()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    rounds.sort()
    median = statistics.median(rounds)
    return {
        "model": model, "backend": backend, "database": "sqlite (new file)" if db ==
        str(folder / "records.db") else db, "canvas": f"{side}x{side} PNG, "
        f"{statistics.median(len(d) for d in drawings):.0f} bytes",
        "requests": requests, "records_committed": stats["records"],
        "p50_ms": round(median, 2), "p90_ms": round(rounds[int(0.9 * len(rounds))], 2),
        "p99_ms": round(rounds[min(len(rounds) - 1, int(0.99 * len(rounds)))], 2),
        "server_median_ms": {name: round(statistics.median(p[name] for p in parts), 2)
                             for name in parts[0]},
        "target_ms": TARGET_MS, "target_met": median <= TARGET_MS,
        "machine": {"cpu_model": machine.cpu_model(), "logical_cpus": os.cpu_count(),
                    "load_average": before, "load_average_after": machine.load_average()},
    }
