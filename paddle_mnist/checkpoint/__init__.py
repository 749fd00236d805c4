"""The only code that reads or writes checkpoints.

A checkpoint follows paddle's prefix convention, `output/mnist.pdparams` and
`output/mnist.pdopt`, plus a sidecar `output/mnist.meta.json` (`schema.Sidecar`:
the resolved config, run state, scores), so `--resume output/mnist` needs
nothing else. Writes go to temporary files that are renamed into place, the
sidecar last; the sidecar records each file's sha256 and its config's, so a
torn or tampered set is detected on load instead of silently mixing two
epochs. While the renames happen, the previous complete set is kept as hard
links `<prefix>.prev.*`; a crash between two renames leaves it there, and
loading falls back to it (with a note) instead of losing the run.

A checkpoint saved by plain PaddlePaddle code (`paddle.Model.save`, no
sidecar) loads too when asked for (`allow_plain=True`); which network and
config it has is then decided by `paddle_mnist.network`.
"""

import glob
import json
import os
import shutil
import sys
from dataclasses import dataclass
from typing import Optional

import psutil

from ..errors import CheckpointError, ConfigError
from ..files import fsync_file, fsync_folder, sha256_file, sha256_json, write_json_durably
from .schema import (FORMAT_VERSION, DataParallel, EpochRecord, ExtraRecord, RunState, Score,
                     Sidecar, Source)
from .state_dict import load_state_dict, match_params, shapes

__all__ = ["PARAMS", "OPTIMIZER", "META", "Checkpoint", "DataParallel", "EpochRecord", "ExtraRecord",
           "RunState", "Score", "Sidecar", "Source", "check_writable", "load_checkpoint",
           "load_state_dict", "match_params", "normalize_prefix", "read_sidecar",
           "save_checkpoint", "shapes", "update_sidecar"]

PARAMS, OPTIMIZER, META = ".pdparams", ".pdopt", ".meta.json"
PREVIOUS = ".prev"  # suffix of the prefix holding the last complete set during a save
MAX_SIDECAR_BYTES = 16 * 2**20  # a long run's history is ~100 kB; more is not ours


def normalize_prefix(prefix):
    """Accept 'output/mnist', 'output/mnist.pdparams' or 'output/mnist.meta.json'."""
    prefix = os.fspath(prefix)
    for ext in (PARAMS, OPTIMIZER, META):
        if prefix.endswith(ext):
            return prefix[: -len(ext)]
    return prefix


def _log_dir_from_file(sidecar, path):
    """Format 2 stores the VisualDL folder relative to the sidecar, so a run
    resumed from another working folder logs where it logged before."""
    if sidecar.format >= 2 and sidecar.state.log_dir and not os.path.isabs(sidecar.state.log_dir):
        sidecar.state.log_dir = os.path.normpath(
            os.path.join(os.path.dirname(path), sidecar.state.log_dir))
    return sidecar


def _log_dir_for_file(log_dir, path):
    if not log_dir:
        return log_dir
    try:
        return os.path.relpath(log_dir, os.path.dirname(os.path.abspath(path)))
    except ValueError:  # another drive on Windows: no relative path exists
        return os.path.abspath(log_dir)


def read_sidecar(prefix):
    """The validated Sidecar of the checkpoint at `prefix`; CheckpointError otherwise."""
    from ..config import from_dict

    path = normalize_prefix(prefix) + META
    if not os.path.isfile(path):
        hint = "" if os.path.isfile(normalize_prefix(prefix) + PARAMS) else " (no checkpoint there)"
        raise CheckpointError(f"checkpoint sidecar not found: {path}{hint}; pass the prefix "
                              "a training run wrote, e.g. --resume output/mnist")
    try:
        if os.path.getsize(path) > MAX_SIDECAR_BYTES:
            raise ValueError("too large")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (ValueError, UnicodeDecodeError, OSError, RecursionError) as err:
        raise CheckpointError(f"{path} is corrupt ({type(err).__name__}); "
                              "use another checkpoint or retrain") from None
    sidecar = Sidecar.from_json(data, path)
    try:
        from_dict(sidecar.config)
    except ConfigError as err:
        raise CheckpointError(f"{path} holds a config this version cannot use ({err})") from None
    if sidecar.config_sha256 is not None and sidecar.config_sha256 != sha256_json(sidecar.config):
        raise CheckpointError(f"{path}: its config was changed after training (the weights were "
                              "trained with another one); pass changes as -o overrides instead, "
                              "or use another checkpoint")
    return _log_dir_from_file(sidecar, path)


@dataclass
class Checkpoint:
    prefix: str
    sidecar: Optional[Sidecar]   # None for a plain paddle checkpoint (allow_plain)
    params: dict
    optimizer: dict              # empty when the checkpoint has no optimizer state

    @property
    def epoch(self):
        return self.sidecar.state.epochs_done if self.sidecar else None


def _verify(prefix, sidecar, exts):
    """Check that each file of `exts` exists and matches the sidecar's hash."""
    for ext in exts:
        path = prefix + ext
        if not os.path.isfile(path):
            raise CheckpointError(f"checkpoint file not found: {path}")
        if sidecar.files.get(ext) != sha256_file(path):
            raise CheckpointError(f"{path} does not match its sidecar {prefix + META} (a torn "
                                  "write or a file from another run); use another checkpoint")


def _load(prefix, with_optimizer):
    sidecar = read_sidecar(prefix)
    exts = [PARAMS] + ([OPTIMIZER] if with_optimizer and OPTIMIZER in sidecar.files else [])
    _verify(prefix, sidecar, exts)
    states = {ext: load_state_dict(prefix + ext) for ext in exts}
    return Checkpoint(prefix, sidecar, states[PARAMS], states.get(OPTIMIZER, {}))


def load_checkpoint(prefix, with_optimizer=True, allow_plain=False):
    """Read and cross-check a checkpoint; any problem is a CheckpointError.

    If the set is broken and a complete `<prefix>.prev` set exists (a save was
    interrupted between its renames), that one is returned instead. With
    `allow_plain`, weights saved by `paddle.Model.save` without a sidecar load
    with `sidecar=None`.
    """
    prefix = normalize_prefix(prefix)
    if allow_plain and not os.path.exists(prefix + META) and os.path.isfile(prefix + PARAMS):
        optimizer = prefix + OPTIMIZER
        return Checkpoint(prefix, None, load_state_dict(prefix + PARAMS),
                          load_state_dict(optimizer) if with_optimizer and os.path.isfile(
                              optimizer) else {})
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
          f"{backup} (epoch {checkpoint.epoch})", file=sys.stderr)
    return checkpoint


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
        sidecar = read_sidecar(prefix)
        files = [PARAMS] + [OPTIMIZER] * (OPTIMIZER in sidecar.files)
        _verify(prefix, sidecar, files)
    except CheckpointError:
        return
    backup = prefix + PREVIOUS
    _remove_set(backup)
    for ext in files + [META]:  # sidecar last: the backup counts only once it is complete
        try:
            os.link(prefix + ext, backup + ext)
        except OSError:  # file systems without hard links
            shutil.copyfile(prefix + ext, backup + ext)


def _temporary(prefix, ext):
    return f"{prefix}{ext}.tmp{os.getpid()}"


def _remove_stale_temporaries(prefix):
    """Temporary files left by a save whose process was killed."""
    for path in glob.glob(glob.escape(prefix) + "*.tmp*"):
        pid = path.rpartition(".tmp")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not psutil.pid_exists(int(pid)):
            os.remove(path)


def check_writable(prefix):
    """Fail now, not after an epoch, if the longest file name a run writes next to
    `prefix` (its best checkpoint's temporary sidecar) cannot be created there."""
    prefix = normalize_prefix(prefix)
    probe = _temporary(prefix + "_best" + PREVIOUS, META)
    try:
        os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as err:
        raise CheckpointError(f"cannot write checkpoint files at {prefix}: "
                              f"{err.strerror or err}; set output.checkpoint to a shorter or "
                              "writable path") from None


def save_checkpoint(prefix, network, optimizer, sidecar):
    """Atomically write prefix.pdparams (+ .pdopt) and the sidecar; returns the prefix."""
    import paddle

    prefix = normalize_prefix(prefix)
    folder = os.path.dirname(prefix) or "."
    tmp = {ext: _temporary(prefix, ext) for ext in (PARAMS, OPTIMIZER, META)}
    try:
        os.makedirs(folder, exist_ok=True)
        _remove_stale_temporaries(prefix)
        states = {PARAMS: network.state_dict()}
        if optimizer is not None:
            states[OPTIMIZER] = optimizer.state_dict()
        for ext, state in states.items():
            paddle.save(state, tmp[ext])
            fsync_file(tmp[ext])
        _write_sidecar(tmp[META], prefix + META, sidecar.replace(
            files={ext: sha256_file(tmp[ext]) for ext in states}))
        _keep_previous(prefix)
        for ext in list(states) + [META]:
            os.replace(tmp[ext], prefix + ext)
        fsync_folder(folder)
        _remove_set(prefix + PREVIOUS)
    except OSError as err:
        raise CheckpointError(f"could not write checkpoint {prefix}: {err.strerror or err}; "
                              "the previous checkpoint there is unchanged") from None
    finally:
        for path in tmp.values():
            if os.path.exists(path):
                os.remove(path)
    return prefix


def _write_sidecar(tmp, final, sidecar):
    """The sidecar as JSON, in the current format, with the config's hash."""
    data = sidecar.replace(format=FORMAT_VERSION, config_sha256=sha256_json(sidecar.config)).to_json()
    data["state"]["log_dir"] = _log_dir_for_file(sidecar.state.log_dir, final)
    write_json_durably(tmp, data)


def update_sidecar(prefix, **fields):
    """Replace fields of an existing sidecar (atomically); the weights are untouched."""
    prefix = normalize_prefix(prefix)
    sidecar = read_sidecar(prefix).replace(**fields)
    tmp = _temporary(prefix, META)
    try:
        _write_sidecar(tmp, prefix + META, sidecar)
        os.replace(tmp, prefix + META)
    except OSError as err:
        raise CheckpointError(f"could not update {prefix + META}: {err.strerror or err}") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return sidecar
