"""Plot training curves (loss and accuracy per epoch) of one or more runs.

The same as `paddle-mnist plot`; `python tools/plot.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("plot")
