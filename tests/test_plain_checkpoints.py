"""Checkpoints cross the border to plain PaddlePaddle code, both ways.

Someone who followed the PaddlePaddle MNIST tutorial has `finetuning/mnist.pdparams`
from `model.save(...)` and no sidecar; the toolkit fine-tunes, evaluates, exports
and predicts it. And a checkpoint the toolkit wrote loads into a plain
`paddle.Model(paddle.vision.models.LeNet())` with `Model.load`.
"""

import json
import re
import subprocess
import sys

import pytest
from PIL import Image

from conftest import run_tool

TUTORIAL = """
import paddle
from paddle.vision.datasets import MNIST
from paddle.vision.transforms import Normalize

root = {root!r}
transform = Normalize(mean=[127.5], std=[127.5], data_format="CHW")
train = MNIST(image_path=root + "/train-images-idx3-ubyte.gz",
              label_path=root + "/train-labels-idx1-ubyte.gz", mode="train",
              transform=transform, download=False)
paddle.seed(0)
model = paddle.Model(paddle.vision.models.LeNet())
model.prepare(paddle.optimizer.Adam(parameters=model.parameters()),
              paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy())
model.fit(train, epochs=1, batch_size=64, verbose=0, num_iters=300)
model.save("finetuning/mnist")
"""

PLAIN_EVALUATION = """
import json
import paddle
from paddle.vision.datasets import MNIST
from paddle.vision.transforms import Normalize

root = {root!r}
test = MNIST(image_path=root + "/t10k-images-idx3-ubyte.gz",
             label_path=root + "/t10k-labels-idx1-ubyte.gz", mode="test",
             transform=Normalize(mean=[127.5], std=[127.5], data_format="CHW"), download=False)
model = paddle.Model(paddle.vision.models.LeNet())
model.load({prefix!r})
model.prepare(metrics=paddle.metric.Accuracy())
print(json.dumps(model.evaluate(test, batch_size=1000, verbose=0)))
"""


def run_python(code, cwd):
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory, mnist_root):
    folder = tmp_path_factory.mktemp("tutorial")
    run_python(TUTORIAL.format(root=str(mnist_root)), folder)
    assert sorted(p.name for p in (folder / "finetuning").iterdir()) == ["mnist.pdopt",
                                                                        "mnist.pdparams"]
    return folder


def test_a_tutorial_checkpoint_is_evaluated_exported_and_predicted(tutorial, mnist_root,
                                                                   mnist_test):
    proc = run_tool("eval.py", "--resume", "finetuning/mnist", "--json", cwd=tutorial,
                    data_root=mnist_root)
    assert ("note: finetuning/mnist has no sidecar (saved by plain paddle code?); assuming "
            "model 'lenet' with the default config") in proc.stderr
    scored = json.loads(proc.stdout)
    assert scored["acc"] > 0.9 and scored["epoch"] is None
    exported = run_tool("export.py", "--resume", "finetuning/mnist", "--output", "inf/mnist",
                        "--onnx", cwd=tutorial, data_root=mnist_root)
    assert "exported finetuning/mnist (lenet, no sidecar)" in exported.stdout
    images, labels = mnist_test
    (tutorial / "digits").mkdir(exist_ok=True)
    for index in range(20):
        Image.fromarray(images[index]).save(tutorial / "digits" / f"{index:02d}.png")
    predicted = run_tool("predict.py", "--resume", "finetuning/mnist", "--json", "digits",
                         cwd=tutorial, data_root=mnist_root)
    digits = [json.loads(line)["digit"] for line in predicted.stdout.splitlines()]
    assert sum(d == label for d, label in zip(digits, labels[:20])) >= 17


def test_a_tutorial_checkpoint_is_fine_tuned_into_a_toolkit_checkpoint(tutorial, mnist_root):
    proc = run_tool("finetune.py", "--resume", "finetuning/mnist", "--epochs", "1",
                    "-o", "train.max_steps_per_epoch=50", cwd=tutorial, data_root=mnist_root)
    assert "fine-tuning finetuning/mnist (epoch 0) for 1 epochs at learning rate 0.0001" in proc.stdout
    sidecar = json.loads((tutorial / "finetuning" / "mnist_finetune.meta.json").read_text())
    assert sidecar["source"] == {"prefix": "finetuning/mnist", "epoch": 0}
    assert sidecar["model"] == "lenet" and sidecar["test"]["acc"] > 0.9
    # nothing says how far plain paddle code trained: its VisualDL run starts at 0
    state = sidecar["state"]
    assert (state["epoch_offset"], state["step_offset"]) == (0, 0)
    assert re.fullmatch(r"lenet-finetune-\d{8}-\d{6}", state["run_name"])


def test_weights_that_fit_no_registered_network_need_a_name(tmp_path, mnist_root):
    import paddle

    paddle.save({"w": paddle.zeros([3, 3])}, str(tmp_path / "odd.pdparams"))
    proc = run_tool("eval.py", "--resume", "odd", cwd=tmp_path, data_root=mnist_root, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: odd.pdparams has no sidecar and they fit none of the "
                                  "registered networks with default arguments; name the network "
                                  "with -o model.name=NAME")


def test_a_toolkit_checkpoint_loads_in_plain_paddle(tmp_path, mnist_root):
    run_tool("train.py", "-c", "lenet", "-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=200",
             cwd=tmp_path, data_root=mnist_root)
    ours = json.loads(run_tool("eval.py", "--resume", "output/mnist", "--json", cwd=tmp_path,
                               data_root=mnist_root).stdout)
    plain = json.loads(run_python(PLAIN_EVALUATION.format(root=str(mnist_root),
                                                         prefix="output/mnist"), tmp_path))
    assert plain["acc"] == pytest.approx(ours["acc"], abs=1e-9)
