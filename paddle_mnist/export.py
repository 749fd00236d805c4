"""Export a checkpoint for deployment, and prove the export computes the same thing.

`paddle.jit.save` traces the network with a declared input (dynamic batch,
1 x S x S) into `<prefix>.json` + `<prefix>.pdiparams` (Paddle 3.x PIR);
`paddle2onnx` converts that into `<prefix>.onnx`. Next to them goes
`<prefix>.preprocess.json`, the input size, normalisation and class names a
predictor needs, with the sha256 of each model file so a stale file from an
earlier export is detected instead of silently used.

Tracing and conversion can change numerics (fused ops, oneDNN kernels, a
converter bug), so every export is checked before it is moved into place:
each backend runs a batch of real MNIST test images through the exported
files and must match the dygraph network's logits within `TOLERANCE`.
"""

import json
import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
import paddle
from paddle.static import InputSpec

from . import engine, inference
from .data import read_mnist, to_input
from .errors import ExportError

TOLERANCE = 1e-4
VERIFY_IMAGES = 256
ONNX_OPSET = 13


@dataclass
class ExportResult:
    prefix: str
    files: list          # paths written, model files first, the description last
    max_abs_diff: dict   # backend -> largest |logit difference| against dygraph
    agreement: dict      # backend -> images whose predicted class matches dygraph
    images: int          # how many real test images were compared
    spec: dict


def export(checkpoint_prefix, output="inference/mnist", onnx=False, overrides=(),
           verify_images=VERIFY_IMAGES, tolerance=TOLERANCE):
    """Export the checkpoint at `checkpoint_prefix` to `output` and verify it."""
    checkpoint, config, model = engine.load_for_eval(checkpoint_prefix, overrides)
    network = model.network
    network.eval()
    size = engine.input_size_of(config)
    images = read_mnist(config.data.root, "test")[0][:verify_images]
    with paddle.no_grad():
        reference = network(paddle.to_tensor(
            to_input(images, size, config.data.mean, config.data.std))).numpy()
    spec = inference.spec_for(config, reference.shape[1], source=checkpoint.prefix)
    spec["source_epoch"] = checkpoint.meta["state"]["epochs_done"]
    prefix = inference.model_prefix(output)
    staging = _staging_folder(os.path.dirname(prefix) or ".")
    try:
        staged = os.path.join(staging, os.path.basename(prefix))
        paddle.jit.save(network, staged, input_spec=[InputSpec([None, 1, size, size],
                                                               "float32", "image")])
        suffixes = list(inference.MODEL_SUFFIXES["paddle"])
        if onnx:
            _convert_to_onnx(staged)
            suffixes += inference.MODEL_SUFFIXES["onnx"]
        spec["files"] = {s: inference.sha256_file(staged + s) for s in suffixes}
        with open(staged + inference.SPEC_SUFFIX, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=1)
        diffs, agreement = {}, {}
        for backend in ("paddle", "onnx") if onnx else ("paddle",):
            logits = inference.open_predictor(staged, backend).logits(images)
            diffs[backend] = float(np.abs(logits - reference).max())
            agreement[backend] = int((logits.argmax(1) == reference.argmax(1)).sum())
            if not diffs[backend] <= tolerance:
                raise ExportError(f"the exported {backend} model differs from the checkpoint "
                                  f"by up to {diffs[backend]:.2e} (> {tolerance:g}) on real "
                                  "test images; nothing was written")
        files = []
        for suffix in suffixes + [inference.SPEC_SUFFIX]:
            os.replace(staged + suffix, prefix + suffix)
            files.append(prefix + suffix)
    except OSError as err:
        raise ExportError(f"could not write the exported model {prefix}: "
                          f"{err.strerror or err}; choose another --output") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(prefix, files, diffs, agreement, len(images), spec)


def _staging_folder(folder):
    """A private folder next to the destination, so the final moves are atomic renames."""
    try:
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise NotADirectoryError(0, "it is a file")
        os.makedirs(folder, exist_ok=True)
        return tempfile.mkdtemp(prefix=".export-", dir=folder)
    except OSError as err:
        raise ExportError(f"cannot write to folder {folder}: {err.strerror or err}; "
                          "choose another --output") from None


def _convert_to_onnx(prefix):
    import paddle2onnx

    paddle2onnx.utils.logging.log_level = 0  # its INFO/WARNING lines are for converter authors
    model, params = (prefix + s for s in inference.MODEL_SUFFIXES["paddle"])
    try:
        # with save_file=None it returns the bytes; on failure it only logs and
        # then fails on an unset variable, so any exception means "no model".
        onnx_bytes = paddle2onnx.export(model, params, save_file=None,
                                        opset_version=ONNX_OPSET, optimize_tool="None")
    except Exception as err:
        raise ExportError(f"paddle2onnx could not convert {model} ({type(err).__name__}); "
                          "export without --onnx or report the network") from None
    with open(prefix + ".onnx", "wb") as f:
        f.write(onnx_bytes)
