"""Shared fixtures: where real MNIST is, and how to run a tool as a user would."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NO_DATA = ("real MNIST not available: set PADDLE_MNIST_DATA to a folder holding the four "
           "IDX .gz files (CI uses ../shared/data/mnist), or run with network access")


def _download_host_reachable():
    try:
        socket.create_connection(("paddle-imagenet-models-name.bj.bcebos.com", 443), 3).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def mnist_root():
    """Folder with the real MNIST files, or skip with a reason saying how to provide them."""
    root = os.environ.get("PADDLE_MNIST_DATA")
    if root:
        return root
    if not _download_host_reachable():
        pytest.skip(NO_DATA)
    from paddle_mnist.data import read_mnist
    import paddle.vision.datasets

    read_mnist(None, "test")  # fetch through paddle's downloader into its cache
    read_mnist(None, "train")
    return os.path.dirname(paddle.vision.datasets.MNIST(mode="test", download=True).image_path)


@pytest.fixture(scope="session")
def mnist_test(mnist_root):
    from paddle_mnist.data import read_mnist

    return read_mnist(mnist_root, "test")


def run_tool(script, *args, cwd, data_root=None, timeout=600, check=True):
    """Run tools/<script> in a subprocess; returns the CompletedProcess."""
    env = dict(os.environ)
    if data_root:
        env["PADDLE_MNIST_DATA"] = str(data_root)
    proc = subprocess.run([sys.executable, str(REPO / "tools" / script), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{script} {' '.join(map(str, args))} exited "
                             f"{proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@pytest.fixture
def tool():
    return run_tool
