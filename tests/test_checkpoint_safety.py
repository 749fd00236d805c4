"""Damaged, foreign and malicious checkpoints: refused in one line, never executed.

A real checkpoint is trained once; each test damages a copy and opens it the
way a user would, with tools/eval.py and tools/train.py --resume, plus the
cheaper in-process checks of every variant.
"""

import ast
import hashlib
import json
import os
import pickle
import shutil

import numpy as np
import pytest

from paddle_mnist import checkpoint
from paddle_mnist.errors import CheckpointError
from paddle_mnist.models import create_model

from conftest import REPO, run_tool
from mnist_files import write_subset

PREFIX = "out/mnist"
EXTS = (".pdparams", ".pdopt", ".meta.json")


@pytest.fixture(scope="module")
def data(tmp_path_factory, mnist_root):
    return write_subset(mnist_root, tmp_path_factory.mktemp("mnist"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("trained")
    run_tool("train.py", "-c", REPO / "configs" / "lenet.yml", "-o", "train.epochs=1",
             "-o", "train.max_steps_per_epoch=20", "-o", f"output.checkpoint={PREFIX}",
             "-o", "output.log_dir=out/logs", cwd=folder, data_root=data)
    return folder / "out"


@pytest.fixture
def ckpt(tmp_path, trained):
    """A fresh copy of the trained checkpoint; the tests run tools from tmp_path."""
    shutil.copytree(trained, tmp_path / "out")
    return tmp_path / PREFIX


def damage(path, how):
    raw = path.read_bytes()
    path.write_bytes({"garbage": b"this is not a checkpoint\n" * 40,
                      "truncated": raw[:len(raw) // 2], "empty": b""}[how])


def rehash(prefix, ext):
    """Make the sidecar vouch for the file, as an attacker or a foreign tool would."""
    sidecar = prefix.with_name(prefix.name + ".meta.json")
    meta = json.loads(sidecar.read_text())
    meta["files"][ext] = hashlib.sha256(prefix.with_name(prefix.name + ext).read_bytes()).hexdigest()
    sidecar.write_text(json.dumps(meta))


def tool_error(proc):
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


def open_with_tools(tmp_path, data, tools=("eval.py", "train.py")):
    return [tool_error(run_tool(script, "--resume", PREFIX, cwd=tmp_path, data_root=data,
                                check=False)) for script in tools]


EXPECTED = {".pdparams": "out/mnist.pdparams does not match its sidecar out/mnist.meta.json",
            ".pdopt": "out/mnist.pdopt does not match its sidecar out/mnist.meta.json",
            ".meta.json": "out/mnist.meta.json is corrupt (JSONDecodeError)"}


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty"])
@pytest.mark.parametrize("ext", EXTS)
def test_every_damaged_file_is_named(ckpt, ext, how):
    damage(ckpt.with_name("mnist" + ext), how)
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_checkpoint(str(ckpt))
    assert str(err.value).startswith(EXPECTED[ext].replace("out/", f"{ckpt.parent}/"))


@pytest.mark.parametrize("how, problem", [("garbage", "UnpicklingError"),
                                          ("truncated", "UnpicklingError"),
                                          ("empty", "EOFError")])
@pytest.mark.parametrize("ext", [".pdparams", ".pdopt"])
def test_damage_the_sidecar_vouches_for_is_still_caught_by_the_unpickler(ckpt, ext, how,
                                                                         problem):
    damage(ckpt.with_name("mnist" + ext), how)
    rehash(ckpt, ext)
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_checkpoint(str(ckpt))
    assert str(err.value) == (f"{ckpt}{ext} is corrupt or truncated ({problem}); "
                              "use another checkpoint or retrain")


@pytest.mark.parametrize("ext", EXTS)
def test_tools_name_the_damaged_file(tmp_path, ckpt, data, ext):
    damage(ckpt.with_name("mnist" + ext), "truncated")
    if ext == ".pdopt":  # evaluation does not need the optimizer state, resuming does
        assert run_tool("eval.py", "--resume", PREFIX, cwd=tmp_path, data_root=data).stdout
        tools = ("train.py",)
    else:
        tools = ("eval.py", "train.py")
    for line in open_with_tools(tmp_path, data, tools):
        assert line == f"error: {EXPECTED[ext]}" + (
            " (a torn write or a file from another run); use another checkpoint"
            if ext != ".meta.json" else "; use another checkpoint or retrain")


def test_sidecar_naming_another_network_is_caught(tmp_path, ckpt, data):
    sidecar = ckpt.with_name("mnist.meta.json")
    meta = json.loads(sidecar.read_text())
    meta["config"]["model"]["name"] = "mlp"
    sidecar.write_text(json.dumps(meta))
    for line in open_with_tools(tmp_path, data):  # the config no longer matches its hash
        assert line == ("error: out/mnist.meta.json: its config was changed after training (the "
                        "weights were trained with another one); pass changes as -o overrides "
                        "instead, or use another checkpoint")
    del meta["config_sha256"]  # as in a format 1 sidecar: then the weights themselves tell
    sidecar.write_text(json.dumps(meta))
    first = next(iter(create_model("mlp").state_dict()))
    for line in open_with_tools(tmp_path, data):
        assert line == (f"error: checkpoint does not fit the network: it has no parameter "
                        f"'{first}'; is it from another model?")


def test_wrong_tensor_shapes_name_the_first_mismatching_parameter(tmp_path, ckpt, data):
    params = checkpoint.load_state_dict(str(ckpt) + ".pdparams")
    params["fc.1.weight"] = np.zeros((120, 80), np.float32)  # two wrong, fc.1 comes first
    params["fc.2.weight"] = np.zeros((80, 10), np.float32)
    ckpt.with_name("mnist.pdparams").write_bytes(pickle.dumps(params, protocol=4))
    rehash(ckpt, ".pdparams")
    for line in open_with_tools(tmp_path, data):
        assert line == ("error: checkpoint does not fit the network: its parameter 'fc.1.weight' "
                        "has shape [120, 80], the network expects [120, 84]; is it from "
                        "another model?")


class Payload:
    """Unpickling this runs os.mkdir(path): any code could run instead."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


@pytest.mark.parametrize("ext", [".pdparams", ".pdopt"])
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, ckpt, data, ext):
    marker = tmp_path / "pwned"
    state = checkpoint.load_state_dict(f"{ckpt}{ext}")
    state[next(iter(state))] = Payload(str(marker))
    crafted = pickle.dumps(state, protocol=4)
    pickle.loads(crafted)  # the payload is live: a plain unpickler runs it
    assert marker.is_dir()
    marker.rmdir()
    ckpt.with_name("mnist" + ext).write_bytes(crafted)
    # unvouched, the file is refused by its hash; vouched for, by the unpickler
    with pytest.raises(CheckpointError, match="does not match its sidecar"):
        checkpoint.load_checkpoint(str(ckpt))
    rehash(ckpt, ext)
    tools = ("eval.py", "train.py") if ext == ".pdparams" else ("train.py",)
    for line in open_with_tools(tmp_path, data, tools):
        assert line == (f"error: out/mnist{ext} is not a safe paddle state dict (refusing to "
                        f"load posix.mkdir); only load checkpoints you trust and that "
                        "paddle-mnist wrote")
    assert not marker.exists()


def test_bad_override_on_resume_exits_2_and_changes_nothing(tmp_path, ckpt, data):
    before = {p.name: p.read_bytes() for p in ckpt.parent.iterdir() if p.is_file()}
    proc = run_tool("train.py", "--resume", PREFIX, "-o", "train.batch_size=-1",
                    cwd=tmp_path, data_root=data, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("error: config key 'train.batch_size' is -1; "
                                   "it must be >= 1")
    assert {p.name: p.read_bytes() for p in ckpt.parent.iterdir() if p.is_file()} == before


def _unsafe_loads(path):
    """Calls that unpickle a file: paddle.load, pickle.load(s), <model>.load(...)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = ast.unparse(node.func.value)
        if node.func.attr in ("load", "loads") and (
                owner in ("paddle", "pickle", "paddle.framework") or "model" in owner.lower()):
            yield f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node.func)}"


def test_no_code_unpickles_user_files_except_the_restricted_loader():
    sources = [*(REPO / "paddle_mnist").rglob("*.py"), *(REPO / "tools").glob("*.py")]
    assert len(sources) > 10
    found = [hit for path in sources for hit in _unsafe_loads(path)]
    assert found == []


@pytest.mark.parametrize("sidecar, problem", [
    ("[]", "is not a paddle-mnist checkpoint sidecar (format 'list', expected one of "
           "[1, 2, 3])"),
    ('{"format": 4}', "is not a paddle-mnist checkpoint sidecar (format '4', expected one of "
                      "[1, 2, 3])"),
    ("{}", ": field 'config' must be an object, got list; the sidecar was edited or damaged"),
    ("null", ": field 'state' must be an object, got NoneType; the sidecar was edited or damaged"),
], ids=["list", "format", "config", "state"])
def test_foreign_sidecar_is_refused_in_one_line(ckpt, sidecar, problem):
    original = json.loads(ckpt.with_name("mnist.meta.json").read_text())
    variants = {"[]": [], '{"format": 4}': dict(original, format=4),
                "{}": dict(original, config=[1, 2]), "null": dict(original, state=None)}
    ckpt.with_name("mnist.meta.json").write_text(json.dumps(variants[sidecar]))
    with pytest.raises(CheckpointError) as err:
        checkpoint.load_checkpoint(str(ckpt))
    assert str(err.value).startswith(f"{ckpt}.meta.json{problem}"
                                     if problem.startswith(":") else f"{ckpt}.meta.json {problem}")
