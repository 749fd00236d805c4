"""What `tools/export.py` writes next to an exported model, as one typed record.

`<prefix>.preprocess.json` (`ExportSpec`) holds what a predictor needs besides
the model files: the input size, the normalisation, the class names, where
the weights came from, and the sha256 of each model file, so a stale or
altered file from another export is refused instead of silently used.
Exporting writes it, the predictors read it, always through this module.
"""

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from .config import INPUT_SIZES, MAX_CLASSES
from .errors import ExportError
from .files import sha256_file
from .typed_json import Problem, build, check_depth

SPEC_SUFFIX = ".preprocess.json"
SPEC_FORMAT = 1
MODEL_SUFFIXES = {"paddle": (".json", ".pdiparams"), "onnx": (".onnx",)}
MAX_SPEC_BYTES = 2**20


@dataclass
class ExportSpec:
    model: str
    input_size: int
    mean: float
    std: float
    class_names: List[str]
    source: Optional[str] = None          # the checkpoint prefix it was exported from
    source_epoch: Optional[int] = None
    folded_linear_layers: int = 0
    files: Dict[str, str] = field(default_factory=dict)   # model file suffix -> sha256
    format: int = SPEC_FORMAT

    def check(self):
        """Raise Problem for values no predictor could use."""
        if self.format != SPEC_FORMAT:
            raise Problem("format", f"is {self.format}, expected {SPEC_FORMAT}")
        if self.input_size not in INPUT_SIZES:
            raise Problem("input_size", f"is {self.input_size}; networks here take "
                          f"{' or '.join(map(str, INPUT_SIZES))}")
        if not self.std > 0:
            raise Problem("std", f"is {self.std}; it must be > 0")
        if not 1 <= len(self.class_names) <= MAX_CLASSES:
            raise Problem("class_names", f"lists {len(self.class_names)} classes")
        known = {suffix for suffixes in MODEL_SUFFIXES.values() for suffix in suffixes}
        for suffix in self.files:
            if suffix not in known:
                raise Problem(f"files.{suffix}", "is not a model file an export writes")
        return self

    def to_json(self):
        return asdict(self)


def model_prefix(path):
    """'inference/mnist.json', '.onnx', '.preprocess.json', ... -> 'inference/mnist'."""
    path = os.fspath(path)
    for suffix in (SPEC_SUFFIX, ".meta.json", ".json", ".pdiparams", ".onnx", ".pdparams"):
        if path.endswith(suffix):
            return path[: -len(suffix)]
    return path


def read_spec(prefix):
    """The validated ExportSpec exported next to the model at `prefix`."""
    path = prefix + SPEC_SUFFIX
    again = "export the model again with tools/export.py --resume output/mnist"
    try:
        if os.path.getsize(path) > MAX_SPEC_BYTES:
            raise ExportError(f"{path} is too large to be a model description; {again}")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as err:
        raise ExportError(f"cannot read {path}: {err.strerror or err}; {again}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ExportError(f"{path} is not valid JSON; {again}") from None
    try:
        check_depth(data)
        return build(ExportSpec, data).check()
    except Problem as problem:
        raise ExportError(f"{path} is not a paddle-mnist model description ({problem}); "
                          f"{again}") from None


def write_spec(path, spec):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec.to_json(), f, indent=1)


def check_model_file(prefix, suffix, spec):
    """The model file exists and is the one exported with `spec` (not a stale one)."""
    path = prefix + suffix
    if suffix not in spec.files:
        hint = " with --onnx" if suffix == ".onnx" else ""
        raise ExportError(f"{prefix + SPEC_SUFFIX} lists no {suffix} file; run "
                          f"tools/export.py{hint} again")
    if not os.path.isfile(path):
        raise ExportError(f"model file not found: {path}; export the model again")
    if sha256_file(path) != spec.files[suffix]:
        raise ExportError(f"{path} does not match {prefix + SPEC_SUFFIX} (overwritten by "
                          "another export?); export the model again")
    return path
