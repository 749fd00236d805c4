"""The package as a user installs it: a wheel in a fresh virtual environment, run
from an empty folder with no checkout in sight."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

NO_INDEX = ("pip could not fetch the dependencies (no access to PyPI or its cache?); "
            "run with network access to the package index")


def run(*args, cwd, env=None, timeout=900):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_the_wheel_installs_and_trains_from_an_empty_folder(tmp_path, mnist_root):
    # built from a copy: setuptools leaves build/ and *.egg-info in the folder it builds in
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "output", "logs", "runs"))
    built = run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "-q", "-w",
                tmp_path / "dist", cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel, = (tmp_path / "dist").glob("paddle_mnist-*.whl")
    run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    scripts = tmp_path / "venv" / ("Scripts" if os.name == "nt" else "bin")
    # the versions CI tests (requirements.txt) as constraints, so the run is reproducible
    # (pip takes no extras in a constraint: psycopg[binary]==x is constrained as psycopg==x)
    pins = [re.sub(r"\[.*?\]", "", line.split("#")[0]).strip()
            for line in (REPO / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-e"))]
    (tmp_path / "constraints.txt").write_text("\n".join(pins) + "\n")
    installed = run(scripts / "python", "-m", "pip", "install", "-q", f"{wheel}[cpu]",
                    "-c", tmp_path / "constraints.txt", cwd=tmp_path)
    if installed.returncode and "No matching distribution" in installed.stderr:
        pytest.skip(NO_INDEX)
    assert installed.returncode == 0, installed.stderr[-3000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PADDLE_MNIST_DATA"] = str(mnist_root)
    where = run(scripts / "python", "-c", "import paddle_mnist; print(paddle_mnist.__file__)",
                cwd=empty, env=env)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout + where.stderr
    helped = run(scripts / "paddle-mnist", "--help", cwd=empty, env=env)
    assert helped.returncode == 0 and "train" in helped.stdout and "serve" in helped.stdout
    trained = run(scripts / "paddle-mnist", "train", "-c", "lenet", "-o", "train.epochs=1",
                  "-o", "train.max_steps_per_epoch=20", cwd=empty, env=env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "checkpoint: output/mnist" in trained.stdout
    assert sorted(path.name for path in (empty / "output").iterdir()) == [
        "mnist.meta.json", "mnist.pdopt", "mnist.pdparams", "mnist_best.meta.json",
        "mnist_best.pdparams"]
    assert (empty / "logs").is_dir()
