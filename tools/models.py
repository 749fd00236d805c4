"""The model registry of a record database: list, register, promote, roll back.

The same as `paddle-mnist models`; `python tools/models.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("models")
