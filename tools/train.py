"""Train a network on MNIST with paddle.Model.fit, logging to VisualDL.

The same as `paddle-mnist train`; `python tools/train.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("train")
