"""Run the correction cycle of docs/learning-from-corrections.md for real and tabulate it.

    PADDLE_MNIST_DATA=/path/to/mnist python docs/scripts/learning_cycle.py \\
        inference/mnist output/mnist cycle [../shared/data/real-digits]

Starts tools/serve.py on a fresh record database (cycle/records.db) with the
exported model, sends it 1,000 digits in the marker / flagged-1 / crossed-7 /
backward-slant style of paddle_mnist.bench.styles as a user's page does,
labels each through the API with its true digit, runs tools/update.py, and
scores the version before and after on the MNIST test set, on 300 other
digits of that style the service never saw, and on the real-digit folders
(evaluation only, never trained on). Prints the Markdown table.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import numpy as np

from paddle_mnist.bench.styles import styled_canvas
from paddle_mnist.data import read_mnist

TOOLS = os.path.join(os.path.dirname(__file__), "..", "..", "tools")
UPDATE = ["--epochs", "2", "-o", "train.max_steps_per_epoch=600"]


def call(url, data=None, content_type="image/png"):
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def write_folder(folder, images, labels, indices):
    os.makedirs(folder, exist_ok=True)
    for index in indices:
        with open(os.path.join(folder, f"{index}_{labels[index]}.png"), "wb") as f:
            f.write(styled_canvas(images[index], labels[index], int(index)))


def accuracy(model, folder):
    proc = subprocess.run([sys.executable, os.path.join(TOOLS, "eval.py"), "--images", folder,
                           "--model", model, "--json"], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)["accuracy"]


def main(model, checkpoint, work, real=None):
    images, labels = read_mnist(None, "test")
    write_folder(os.path.join(work, "unseen"), images, labels, range(6000, 6300))
    server = subprocess.Popen([sys.executable, os.path.join(TOOLS, "serve.py"), "--model", model,
                               "--db", os.path.join(work, "records.db"), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = re.search(r"at (http://\S+/)", server.stdout.readline()).group(1)
        for index in range(3000, 4000):
            answer = call(url + "api/predict", styled_canvas(images[index], labels[index],
                                                             int(index)))
            call(f"{url}api/records/{answer['id']}/label",
                 json.dumps({"label": str(labels[index])}).encode(), "application/json")
        subprocess.run([sys.executable, os.path.join(TOOLS, "update.py"), "--db",
                        os.path.join(work, "records.db"), "--from", checkpoint,
                        "--work", os.path.join(work, "updates"), *UPDATE], check=True)
        time.sleep(6)  # one poll of the server
        served = call(url + "api/health", None)["version_id"]
    finally:
        server.terminate()
        server.wait()
    [cycle] = sorted(os.listdir(os.path.join(work, "updates")))
    folder = os.path.join(work, "updates", cycle)
    rows = [("before (version 1)", os.path.join(folder, "current", "mnist")),
            (f"after (version {served})", os.path.join(folder, "export", "mnist"))]
    decision = json.loads(subprocess.run(
        [sys.executable, "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("
         "'SELECT decision FROM model_versions ORDER BY id DESC').fetchone()[0])",
         os.path.join(work, "records.db")], capture_output=True, text=True).stdout)
    print("| model | MNIST test | held-out records (style) | unseen digits of the style | CVL "
          "| USPS |\n| --- | --- | --- | --- | --- | --- |")
    for (name, prefix), figures in zip(rows, (decision["current"], decision["candidate"])):
        real_cells = [f"{accuracy(prefix, os.path.join(real, part)):.2%}" if real else "-"
                      for part in ("cvl", "usps")]
        print(f"| {name} | {figures['mnist']:.2%} | {figures['holdout']:.2%} | "
              f"{accuracy(prefix, os.path.join(work, 'unseen')):.2%} | {' | '.join(real_cells)} |")
    print(f"\ngate: {decision['reason']} ({decision['holdout_samples']} held-out records)")


if __name__ == "__main__":
    main(*sys.argv[1:])
