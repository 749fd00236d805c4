"""The package's shape: code that uses a model never loads training code, and the
toolkit runs where `fcntl` does not exist (as on Windows)."""

import os
import subprocess
import sys

from conftest import REPO, run_tool

TRAINING_ONLY = ("paddle_mnist.engine", "paddle_mnist.callbacks", "paddle_mnist.optim",
                 "paddle_mnist.runlock", "paddle_mnist.sweep", "paddle_mnist.dashboard",
                 "visualdl")

USE_A_MODEL = """
import sys
import numpy as np
from paddle_mnist import export, network, predict, predictors, server
from paddle_mnist.commands import evaluate, predict as predict_command, serve
from paddle_mnist.reports import evaluation
predictor = predictors.open_predictor({prefix!r})
scores = predictor.probabilities(np.zeros([2, 28, 28], np.uint8))
assert scores.shape == (2, 10)
from paddle_mnist.service.models import FixedModel
from paddle_mnist.service.recording import model_version
from paddle_mnist.store import open_store
server.create_app(FixedModel(predictor, model_version(predictor.spec)), open_store("records.db"))
loaded = {training_only!r}
print(",".join(name for name in loaded if name in sys.modules))
"""


def test_predicting_and_serving_load_no_training_code(tmp_path, mnist_root):
    run_tool("train.py", "-c", "fast", "-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=3",
             "-o", "output.checkpoint=out/mnist", cwd=tmp_path, data_root=mnist_root)
    code = USE_A_MODEL.format(prefix="out/mnist", training_only=TRAINING_ONLY)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "", f"training modules loaded: {proc.stdout.strip()}"


# Run as `python -c`: fcntl made unimportable before anything else loads, as on
# Windows, then every module of the package imported, then a tool as __main__.
WITHOUT_FCNTL = """
import importlib, pkgutil, runpy, sys
sys.modules["fcntl"] = None
import paddle_mnist
for module in pkgutil.walk_packages(paddle_mnist.__path__, "paddle_mnist."):
    if not module.name.endswith("__main__"):  # that one runs the CLI
        importlib.import_module(module.name)
tool = sys.argv[1]
sys.argv = [tool, *sys.argv[2:]]
runpy.run_path(tool, run_name="__main__")
"""


def run_without_fcntl(tool, *args, cwd, data_root):
    env = dict(os.environ, PADDLE_MNIST_DATA=str(data_root))
    proc = subprocess.run([sys.executable, "-c", WITHOUT_FCNTL, str(REPO / "tools" / tool),
                           *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{tool} failed without fcntl:\n{proc.stderr[-3000:]}"
    assert "fcntl" not in proc.stderr
    return proc


def test_train_resume_and_predict_work_without_fcntl(tmp_path, mnist_root, mnist_test):
    quick = ["-o", "train.max_steps_per_epoch=20", "-o", "optimizer.lr_schedule.name=constant"]
    run_without_fcntl("train.py", "-c", "lenet", "-o", "train.epochs=1", *quick, cwd=tmp_path,
                      data_root=mnist_root)
    resumed = run_without_fcntl("train.py", "--resume", "output/mnist", "-o", "train.epochs=2",
                                cwd=tmp_path, data_root=mnist_root)
    assert "after 2 epochs" in resumed.stdout
    assert not list((tmp_path / "output").glob("*.lock*"))
    from PIL import Image

    Image.fromarray(mnist_test[0][0]).save(tmp_path / "digit.png")
    predicted = run_without_fcntl("predict.py", "--resume", "output/mnist", "digit.png",
                                  cwd=tmp_path, data_root=mnist_root)
    assert predicted.stdout.startswith("digit.png: ")


def test_the_wheel_lists_every_package_folder():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    folders = {".".join(path.parent.relative_to(REPO).parts)
               for path in (REPO / "paddle_mnist").rglob("__init__.py")}
    assert listed == folders | {"paddle_mnist.configs"}
