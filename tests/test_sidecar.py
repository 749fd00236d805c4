"""The typed sidecar and export description: old checkpoints load, bad files are one line."""

import json
import shutil

import pytest

from paddle_mnist import checkpoint
from paddle_mnist.errors import CheckpointError, ExportError
from paddle_mnist.exported import read_spec

from conftest import REPO, run_tool

V1 = REPO / "tests" / "fixtures" / "v1"


@pytest.fixture
def v1(tmp_path):
    """A copy of the checkpoint written before the schema (sidecar format 1)."""
    shutil.copytree(V1, tmp_path / "v1")
    return tmp_path


def test_a_format_1_sidecar_loads_with_every_field_typed(v1):
    loaded = checkpoint.load_checkpoint(str(v1 / "v1" / "mnist"))
    sidecar = loaded.sidecar
    assert sidecar.format == 1 and sidecar.config_sha256 is None
    assert sidecar.model == "fast_cnn" and sidecar.eval_split == "test"
    assert sidecar.state.epochs_done == 2 and sidecar.state.steps_done == 40
    assert [record.epoch for record in sidecar.state.history] == [1, 2]
    assert sidecar.state.history[1].eval_acc == sidecar.test.acc == 0.9014
    assert sidecar.state.log_dir == "logs/fast-20261201-203937"  # format 1: relative to the cwd
    assert sidecar.data_parallel.samples_per_rank == [5120]
    assert set(loaded.optimizer) and set(loaded.params)


def test_a_format_1_checkpoint_evaluates_exports_and_resumes_without_change(v1, mnist_root):
    result = json.loads(run_tool("eval.py", "--resume", "v1/mnist", "--json", cwd=v1,
                                 data_root=mnist_root).stdout)
    assert result["acc"] == pytest.approx(0.9014, abs=1e-9) and result["epoch"] == 2
    exported = run_tool("export.py", "--resume", "v1/mnist", "--output", "inf/mnist", cwd=v1,
                        data_root=mnist_root)
    assert "exported v1/mnist (fast_cnn, epoch 2)" in exported.stdout
    before = {path.name: path.read_bytes() for path in (v1 / "v1").iterdir()}
    resumed = run_tool("train.py", "--resume", "v1/mnist", cwd=v1, data_root=mnist_root)
    assert "nothing left to train: v1/mnist already holds 2 epochs" in resumed.stdout
    assert "test accuracy 90.14%" in resumed.stdout
    assert {path.name: path.read_bytes() for path in (v1 / "v1").iterdir()} == before
    assert not (v1 / "logs").exists()


def _edit_sidecar(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _deep(levels):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(files=None), "field 'files' must be an object, got NoneType"),
    (lambda d: d["state"].update(surprise=1), "field 'state.surprise' is not a known field"),
    (lambda d: d["state"].update(epochs_done="2"), "field 'state.epochs_done' must be int"),
    (lambda d: d["state"]["history"][0].update(eval_acc=None),
     "field 'state.history[0].eval_acc' must be float"),
    (lambda d: d.pop("state"), "field 'state' is missing"),
    (lambda d: d.update(eval_split="train"), "field 'eval_split' must be 'val' or 'test'"),
    (lambda d: d.update(test=_deep(100)), "nests deeper than 16 levels"),
    (lambda d: d["config"]["optimizer"].update(name="rmsprop"),
     "holds a config this version cannot use"),
])
def test_a_damaged_sidecar_is_one_line_naming_the_field(v1, change, message):
    _edit_sidecar(v1 / "v1" / "mnist.meta.json", change)
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_checkpoint(str(v1 / "v1" / "mnist"))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_sidecar_that_is_not_an_object_is_refused(v1):
    (v1 / "v1" / "mnist.meta.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="is not a paddle-mnist checkpoint sidecar"):
        checkpoint.load_checkpoint(str(v1 / "v1" / "mnist"))


def test_new_sidecars_cover_their_config_and_log_relative_to_themselves(tmp_path, mnist_root):
    run_tool("train.py", "-c", "fast", "-o", "train.epochs=1", "-o", "train.max_steps_per_epoch=5",
             "-o", "output.checkpoint=out/mnist", cwd=tmp_path, data_root=mnist_root)
    sidecar = tmp_path / "out" / "mnist.meta.json"
    data = json.loads(sidecar.read_text())
    assert data["format"] == 3 and len(data["config_sha256"]) == 64
    assert data["state"]["log_dir"] == f"../logs/{data['state']['run_name']}"
    assert checkpoint.read_sidecar(str(tmp_path / "out" / "mnist")).state.log_dir == str(
        tmp_path / "logs" / data["state"]["run_name"])
    # trained with data.mean 127.5; a sidecar edited to claim otherwise is caught
    _edit_sidecar(sidecar, lambda d: d["config"]["data"].update(mean=0))
    refused = run_tool("export.py", "--resume", "out/mnist", cwd=tmp_path, data_root=mnist_root,
                       check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (
        "error: out/mnist.meta.json: its config was changed after training (the weights were "
        "trained with another one); pass changes as -o overrides instead, or use another "
        "checkpoint")


@pytest.mark.parametrize("content, message", [
    ("[]", "field '(top level)' must be an object, got list"),
    ('{"model": "lenet", "input_size": 4096, "mean": 0, "std": 1, "class_names": ["0"]}',
     "field 'input_size' is 4096; networks here take 28 or 32"),
    ('{"model": "lenet", "input_size": 28, "mean": 0, "std": 0, "class_names": ["0"]}',
     "field 'std' is 0.0; it must be > 0"),
    ('{"model": "lenet", "input_size": 28, "mean": 0, "std": 1, "class_names": "0123"}',
     "field 'class_names' must be a list, got str"),
    ("{" * 100000, "is not valid JSON"),
])
def test_a_damaged_export_description_is_one_line(tmp_path, content, message):
    (tmp_path / "m.preprocess.json").write_text(content)
    with pytest.raises(ExportError) as err:
        read_spec(str(tmp_path / "m"))
    assert message in str(err.value) and "\n" not in str(err.value)
