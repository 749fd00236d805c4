"""Export or count the labelled samples the recognition service collected.

The same as `paddle-mnist dataset`; `python tools/dataset.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("dataset")
