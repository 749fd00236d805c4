"""Learn from the service's corrections: fine-tune, check, and promote only if better.

The same as `paddle-mnist update`; `python tools/update.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("update")
