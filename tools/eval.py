"""Evaluate a checkpoint on the MNIST test set.

The same as `paddle-mnist eval`; `python tools/eval.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("eval")
