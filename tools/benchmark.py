"""Measure training throughput or inference speed, as a table or JSON.

The same as `paddle-mnist benchmark`; `python tools/benchmark.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("benchmark")
