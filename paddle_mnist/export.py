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

Before tracing, runs of two or more `nn.Linear` layers with nothing between
them inside an `nn.Sequential` (paddle's LeNet ends in three) are folded into
one Linear: x W1 W2 + b1 W2 + b2 = x (W1 W2) + (b1 W2 + b2), composed in
float64. That is the same function with fewer ops, and for a network this
small every op a Paddle Inference call saves is measurable latency; the check
above compares the folded export with the unfolded checkpoint.
"""

import dataclasses
import os
import shutil
import tempfile
from dataclasses import dataclass

import numpy as np
import paddle
from paddle import nn
from paddle.static import InputSpec

from .data import read_mnist, to_input
from .errors import ExportError
from .exported import MODEL_SUFFIXES, SPEC_SUFFIX, ExportSpec, model_prefix, write_spec
from .files import sha256_file
from .network import forward, input_size_of, load_network
from .predictors import open_predictor, spec_for

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
    spec: ExportSpec


def export(checkpoint_prefix, output="inference/mnist", onnx=False, overrides=(),
           verify_images=VERIFY_IMAGES, tolerance=TOLERANCE):
    """Export the checkpoint at `checkpoint_prefix` to `output` and verify it."""
    loaded = load_network(checkpoint_prefix, overrides)
    config, network = loaded.config, loaded.network
    size = input_size_of(config)
    images = read_mnist(config.data.root, "test")[0][:verify_images]
    reference = forward(network, to_input(images, size, config.data.mean, config.data.std))
    spec = dataclasses.replace(spec_for(loaded), folded_linear_layers=fold_linear_chains(network))
    prefix = model_prefix(output)
    staging = _staging_folder(os.path.dirname(prefix) or ".")
    try:
        staged = os.path.join(staging, os.path.basename(prefix))
        paddle.jit.save(network, staged, input_spec=[InputSpec([None, 1, size, size],
                                                               "float32", "image")])
        suffixes = list(MODEL_SUFFIXES["paddle"])
        if onnx:
            _convert_to_onnx(staged)
            suffixes += MODEL_SUFFIXES["onnx"]
        spec.files = {s: sha256_file(staged + s) for s in suffixes}
        write_spec(staged + SPEC_SUFFIX, spec)
        diffs, agreement = {}, {}
        for backend in ("paddle", "onnx") if onnx else ("paddle",):
            logits = open_predictor(staged, backend).logits(images)
            diffs[backend] = float(np.abs(logits - reference).max())
            agreement[backend] = int((logits.argmax(1) == reference.argmax(1)).sum())
            if not diffs[backend] <= tolerance:
                raise ExportError(f"the exported {backend} model differs from the checkpoint "
                                  f"by up to {diffs[backend]:.2e} (> {tolerance:g}) on real "
                                  "test images; nothing was written")
        files = []
        for suffix in suffixes + [SPEC_SUFFIX]:
            os.replace(staged + suffix, prefix + suffix)
            files.append(prefix + suffix)
    except OSError as err:
        raise ExportError(f"could not write the exported model {prefix}: "
                          f"{err.strerror or err}; choose another --output") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(prefix, files, diffs, agreement, len(images), spec)


def fold_linear_chains(network):
    """Replace each run of consecutive Linear layers in an nn.Sequential by one
    Linear computing the same affine map; returns how many layers were removed.

    Only exact `nn.Sequential` containers are touched: their forward is known to
    feed each child's output straight into the next, so nothing (no activation,
    no dropout, no reshape) can sit between two adjacent Linear children. A run
    whose product would hold more weights than its factors (a bottleneck such
    as 400 -> 10 -> 400) is left alone, since folding it would cost time.
    """
    removed = 0
    for container in [network, *network.sublayers()]:
        if type(container) is not nn.Sequential:
            continue
        layers, run = [], []
        for layer in [*container.children(), None]:
            if isinstance(layer, nn.Linear):
                run.append(layer)
                continue
            if len(run) > 1 and _folding_pays(run):
                layers.append(_compose(run))
                removed += len(run) - 1
            else:
                layers += run
            run = []
            if layer is not None:
                layers.append(layer)
        if len(layers) < len(container):
            # Replace the children in place so the container's parent keeps the same object.
            for name, _ in list(container.named_children()):
                delattr(container, name)
            for index, layer in enumerate(layers):
                container.add_sublayer(str(index), layer)
    return removed


def _folding_pays(linears):
    sizes = [linear.weight.shape for linear in linears]
    return sizes[0][0] * sizes[-1][1] <= sum(rows * cols for rows, cols in sizes)


def _compose(linears):
    weight, bias = None, None
    for linear in linears:
        w = linear.weight.numpy().astype(np.float64)
        b = np.zeros(w.shape[1]) if linear.bias is None else linear.bias.numpy()
        weight, bias = (w, b.astype(np.float64)) if weight is None else (weight @ w, bias @ w + b)
    folded = nn.Linear(*weight.shape)
    folded.weight.set_value(weight.astype(np.float32))
    folded.bias.set_value(bias.astype(np.float32))
    return folded


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
    model, params = (prefix + s for s in MODEL_SUFFIXES["paddle"])
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
