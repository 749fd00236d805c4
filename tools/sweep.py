"""Train one run per point of a grid over config keys, and tabulate them.

The same as `paddle-mnist sweep`; `python tools/sweep.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("sweep")
