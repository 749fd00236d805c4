"""Serve the web demo and the HTTP API for an exported model.

The same as `paddle-mnist serve`; `python tools/serve.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("serve")
