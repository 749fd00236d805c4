"""The only code that reads or writes checkpoints.

A checkpoint follows paddle's prefix convention, `output/mnist.pdparams` and
`output/mnist.pdopt`, plus a sidecar `output/mnist.meta.json` holding the
resolved config, epoch, metrics and history, so `--resume output/mnist` needs
nothing else. Writes go to temporary files that are renamed into place, the
sidecar last; the sidecar records each file's sha256, so a torn or tampered
set is detected on load instead of silently mixing two epochs. While the
renames happen, the previous complete set is kept as hard links
`<prefix>.prev.*`; a crash between two renames leaves it there, and loading
falls back to it (with a note) instead of losing the run.

`paddle.load` unpickles, and unpickling a crafted file runs arbitrary code.
Checkpoints are read with an unpickler that only builds the three numpy
objects a paddle state dict is made of.
"""

import glob
import hashlib
import json
import os
import pickle
import shutil
import sys
from dataclasses import dataclass

import numpy as np

from .errors import CheckpointError

PARAMS, OPTIMIZER, META = ".pdparams", ".pdopt", ".meta.json"
PREVIOUS = ".prev"  # suffix of the prefix holding the last complete set during a save
FORMAT_VERSION = 1
_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}


class _Refused(pickle.UnpicklingError):
    """The file asks for a global outside the allow-list (truncation is not this)."""


class _StateDictUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _Refused(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def normalize_prefix(prefix):
    """Accept 'output/mnist', 'output/mnist.pdparams' or 'output/mnist.meta.json'."""
    for ext in (PARAMS, OPTIMIZER, META):
        if prefix.endswith(ext):
            return prefix[: -len(ext)]
    return prefix


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(path):
    """A paddle state dict file -> {name: numpy array or nested dict}, safely."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        with open(path, "rb") as f:
            state = _StateDictUnpickler(f).load()
    except _Refused as err:
        raise CheckpointError(f"{path} is not a safe paddle state dict ({err}); "
                              "only load checkpoints you trust and that paddle-mnist wrote") from None
    except Exception as err:  # truncated or garbage bytes raise many different types
        raise CheckpointError(f"{path} is corrupt or truncated ({type(err).__name__}); "
                              "use another checkpoint or retrain") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} does not hold a state dict")
    return state


def read_meta(prefix):
    path = normalize_prefix(prefix) + META
    if not os.path.isfile(path):
        hint = "" if os.path.isfile(normalize_prefix(prefix) + PARAMS) else " (no checkpoint there)"
        raise CheckpointError(f"checkpoint sidecar not found: {path}{hint}; pass the prefix "
                              "a training run wrote, e.g. --resume output/mnist")
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (ValueError, UnicodeDecodeError, OSError) as err:
        raise CheckpointError(f"{path} is corrupt ({type(err).__name__}); "
                              "use another checkpoint or retrain") from None
    if not (isinstance(meta, dict) and meta.get("format") == FORMAT_VERSION
            and isinstance(meta.get("config"), dict) and isinstance(meta.get("state"), dict)
            and isinstance(meta["state"].get("epochs_done"), int)):
        raise CheckpointError(f"{path} is not a paddle-mnist checkpoint sidecar "
                              f"(format {FORMAT_VERSION})")
    return meta


@dataclass
class Checkpoint:
    prefix: str
    meta: dict
    params: dict
    optimizer: dict  # empty when the checkpoint has no optimizer state


def _verify(prefix, meta, exts):
    """Check that each file of `exts` exists and matches the sidecar's hash."""
    for ext in exts:
        path = prefix + ext
        if not os.path.isfile(path):
            raise CheckpointError(f"checkpoint file not found: {path}")
        if meta.get("files", {}).get(ext) != _sha256(path):
            raise CheckpointError(f"{path} does not match its sidecar {prefix + META} (a torn "
                                  "write or a file from another run); use another checkpoint")


def _load(prefix, with_optimizer):
    meta = read_meta(prefix)
    exts = [PARAMS] + ([OPTIMIZER] if with_optimizer and OPTIMIZER in meta.get("files", {})
                       else [])
    _verify(prefix, meta, exts)
    states = {ext: load_state_dict(prefix + ext) for ext in exts}
    return Checkpoint(prefix, meta, states[PARAMS], states.get(OPTIMIZER, {}))


def load_checkpoint(prefix, with_optimizer=True):
    """Read and cross-check a checkpoint; any problem is a CheckpointError.

    If the set is broken and a complete `<prefix>.prev` set exists (a save was
    interrupted between its renames), that one is returned instead.
    """
    prefix = normalize_prefix(prefix)
    backup = prefix + PREVIOUS
    try:
        return _load(prefix, with_optimizer)
    except CheckpointError as err:
        if not os.path.isfile(backup + META):
            raise
        problem = err
    try:
        checkpoint = _load(backup, with_optimizer)
    except CheckpointError:
        raise problem from None
    print(f"note: {problem}; a save was interrupted, so using the previous checkpoint "
          f"{backup} (epoch {checkpoint.meta['state']['epochs_done']})", file=sys.stderr)
    return checkpoint


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.flush()
        os.fsync(f.fileno())


def _fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_set(prefix):
    for ext in (META, PARAMS, OPTIMIZER):  # sidecar first: no half-removed set looks complete
        if os.path.exists(prefix + ext):
            os.remove(prefix + ext)


def _keep_previous(prefix):
    """Hard-link the current set to `<prefix>.prev.*` before it is replaced.

    A torn current set (an earlier save was interrupted) is not copied: the
    backup already there is then the last complete one.
    """
    try:
        meta = read_meta(prefix)
        files = [PARAMS] + [OPTIMIZER] * (OPTIMIZER in meta.get("files", {}))
        _verify(prefix, meta, files)
    except CheckpointError:
        return
    backup = prefix + PREVIOUS
    _remove_set(backup)
    for ext in files + [META]:  # sidecar last: the backup counts only once it is complete
        try:
            os.link(prefix + ext, backup + ext)
        except OSError:  # file systems without hard links
            shutil.copyfile(prefix + ext, backup + ext)


def _remove_stale_temporaries(prefix):
    """Temporary files left by a save whose process was killed."""
    for path in glob.glob(glob.escape(prefix) + "*.tmp*"):
        pid = path.rpartition(".tmp")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            os.remove(path)
        except PermissionError:  # alive, owned by another user
            pass


def save_checkpoint(prefix, network, optimizer, meta):
    """Atomically write prefix.pdparams (+ .pdopt) and the sidecar."""
    import paddle

    prefix = normalize_prefix(prefix)
    folder = os.path.dirname(prefix) or "."
    tmp = {ext: f"{prefix}{ext}.tmp{os.getpid()}" for ext in (PARAMS, OPTIMIZER, META)}
    try:
        os.makedirs(folder, exist_ok=True)
        _remove_stale_temporaries(prefix)
        states = {PARAMS: network.state_dict()}
        if optimizer is not None:
            states[OPTIMIZER] = optimizer.state_dict()
        for ext, state in states.items():
            paddle.save(state, tmp[ext])
            _fsync(tmp[ext])
        meta = dict(meta, format=FORMAT_VERSION,
                    files={ext: _sha256(tmp[ext]) for ext in states})
        _write_json(tmp[META], meta)
        _keep_previous(prefix)
        for ext in list(states) + [META]:
            os.replace(tmp[ext], prefix + ext)
        _fsync(folder)
        _remove_set(prefix + PREVIOUS)
    except OSError as err:
        raise CheckpointError(f"could not write checkpoint {prefix}: {err.strerror or err}; "
                              "the previous checkpoint there is unchanged") from None
    finally:
        for path in tmp.values():
            if os.path.exists(path):
                os.remove(path)
    return prefix


def match_params(network, params, skip_mismatch=False):
    """Parameters of `params` that fit `network`, and the names skipped.

    Paddle's own `Model.load(skip_mismatch=True)` crashes when the first
    parameter is the mismatched one, so matching is done here.
    """
    matched, skipped = {}, []
    for name, target in network.state_dict().items():
        if name not in params:
            problem = f"it has no parameter '{name}'"
        elif tuple(np.shape(params[name])) != tuple(target.shape):
            problem = (f"its parameter '{name}' has shape {list(np.shape(params[name]))}, "
                       f"the network expects {list(target.shape)}")
        else:
            matched[name] = params[name]
            continue
        if not skip_mismatch:
            raise CheckpointError(f"checkpoint does not fit the network: {problem}; "
                                  "is it from another model?")
        skipped.append(name)
    return matched, skipped


def update_meta(prefix, **fields):
    """Add fields to an existing sidecar (atomically); the weights are untouched."""
    prefix = normalize_prefix(prefix)
    meta = dict(read_meta(prefix), **fields)
    tmp = f"{prefix}{META}.tmp{os.getpid()}"
    try:
        _write_json(tmp, meta)
        os.replace(tmp, prefix + META)
    except OSError as err:
        raise CheckpointError(f"could not update {prefix + META}: {err.strerror or err}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return meta
