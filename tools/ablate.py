"""Train each variant of an ablation and compare them in a table and a bar chart.

The same as `paddle-mnist ablate`; `python tools/ablate.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("ablate")
