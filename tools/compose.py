"""Write folders of pictures of handwritten numbers composed from real digits.

The same as `paddle-mnist compose`; `python tools/compose.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("compose")
