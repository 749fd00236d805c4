"""Tabulate trained checkpoints: network, parameters, test accuracy, time, command.

The same as `paddle-mnist results`; `python tools/results.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("results")
