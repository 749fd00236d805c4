"""Recognise handwritten digits in image files (photos, scans, drawings).

The same as `paddle-mnist predict`; `python tools/predict.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("predict")
