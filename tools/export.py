"""Export a checkpoint as a Paddle Inference model (and ONNX), verified against it.

The same as `paddle-mnist export`; `python tools/export.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("export")
