"""Draw a grid of MNIST training images and the class balance of train and test.

The same as `paddle-mnist show-data`; `python tools/show_data.py --help` lists the options.
"""

from paddle_mnist.commands import run_tool

if __name__ == "__main__":
    run_tool("show-data")
