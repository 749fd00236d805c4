"""One predictor interface over the three ways to run a trained network.

`tools/predict.py`, the benchmark and the web server all need "uint8 digits in,
logits out" without caring whether the weights are an exported Paddle
Inference model, its ONNX twin or a training checkpoint. Every backend applies
`data.to_input` with the preprocessing description that `tools/export.py`
writes next to the model (`<prefix>.preprocess.json`), so a predictor needs no
other file and cannot disagree with training about normalisation.

Backends are safe to call from several threads: a Paddle Inference predictor
and a dygraph network are not re-entrant, so their runs are serialised by a
lock; ONNX Runtime sessions are thread-safe by design.
"""

import os
import threading

import numpy as np
import paddle
from paddle import inference

from . import checkpoint as ckpt
from .data import to_input
from .errors import CheckpointError, ExportError
from .exported import (MODEL_SUFFIXES, SPEC_SUFFIX, ExportSpec, check_model_file, model_prefix,
                       read_spec)
from .network import forward, input_size_of, load_network, num_classes

BACKENDS = ("paddle", "onnx")


class Predictor:
    """uint8 digits [N, 28, 28] (light on dark, like MNIST) -> class scores."""

    def __init__(self, spec):
        self.spec = spec

    @property
    def class_names(self):
        return self.spec.class_names

    def logits(self, images):
        images = np.asarray(images, dtype=np.uint8)
        batch = to_input(images, self.spec.input_size, self.spec.mean, self.spec.std)
        return np.asarray(self.run(batch), dtype=np.float32)

    def probabilities(self, images):
        logits = self.logits(images)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def run(self, batch):
        """float32 network input [N, 1, S, S] -> logits [N, classes]."""
        raise NotImplementedError


class PaddlePredictor(Predictor):
    """Paddle Inference on `<prefix>.json` + `<prefix>.pdiparams`.

    Measured on one Zen 4 core (docs/performance.md): oneDNN kernels are the
    fastest from two images up (about 3x paddle's plain CPU kernels at batch
    256) but each oneDNN op costs ~18 us of dispatch, so a single image is
    about 2x slower with them. With `mkldnn="auto"` (the default) the predictor
    holds two Paddle predictors (~50 ms to build both) and sends calls of fewer
    than `ONEDNN_FROM` images to the one without oneDNN; True or False uses one
    kind for every call. Batches above `CHUNK` images run `CHUNK` at a time:
    256 images in two calls of 128 came out 2-33% faster than in one (oneDNN's
    first convolution costs more per image on the larger batch).
    """

    ONEDNN_FROM = 2
    CHUNK = 128

    def __init__(self, prefix, spec=None, *, threads=1, ir_optim=True, mkldnn="auto"):
        super().__init__(spec or read_spec(prefix))
        files = [check_model_file(prefix, s, self.spec) for s in MODEL_SUFFIXES["paddle"]]
        options = dict(threads=threads, ir_optim=ir_optim, size=self.spec.input_size)
        self.large = _PaddleSession(*files, onednn=bool(mkldnn), **options)
        self.small = _PaddleSession(*files, onednn=False, **options) \
            if mkldnn == "auto" else self.large
        self.lock = threading.Lock()

    def run(self, batch):
        session = self.small if len(batch) < self.ONEDNN_FROM else self.large
        with self.lock:
            if len(batch) <= self.CHUNK:
                return session.run(np.ascontiguousarray(batch))
            return np.concatenate([session.run(np.ascontiguousarray(batch[i:i + self.CHUNK]))
                                   for i in range(0, len(batch), self.CHUNK)])


class _PaddleSession:
    """One Paddle Inference predictor, run through its input/output handles
    (ZeroCopyRun: no feed/fetch ops), the handles looked up once."""

    # The executor frees each intermediate tensor by handing it to a collector
    # thread as soon as it is dead; for a net this small that hand-off (a
    # thread wake-up per tensor) costs more than the ops. A threshold lets the
    # garbage pile up to this many GB and be freed in one hand-off. Paddle reads
    # the flag once, when the executor builds its collector on the first run.
    GARBAGE_GB = 0.01

    def __init__(self, model, params, *, onednn, threads, ir_optim, size):
        config = inference.Config(model, params)
        config.disable_gpu()
        config.disable_glog_info()
        config.set_cpu_math_library_num_threads(threads)
        config.switch_ir_optim(ir_optim)
        if onednn:
            config.enable_mkldnn()
        else:
            config.disable_mkldnn()
        self.predictor = inference.create_predictor(config)
        self.input = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output = self.predictor.get_output_handle(self.predictor.get_output_names()[0])
        flag = "FLAGS_eager_delete_tensor_gb"
        previous = paddle.get_flags([flag])[flag]
        paddle.set_flags({flag: self.GARBAGE_GB})
        try:
            self.run(np.zeros([1, 1, size, size], np.float32))
        finally:
            paddle.set_flags({flag: previous})

    def run(self, batch):
        self.input.reshape(batch.shape)
        self.input.copy_from_cpu(batch)
        self.predictor.run()
        return self.output.copy_to_cpu()


class OnnxPredictor(Predictor):
    """ONNX Runtime on `<prefix>.onnx`, CPU execution provider."""

    def __init__(self, prefix, spec=None, *, threads=1):
        import onnxruntime  # only this backend needs it

        super().__init__(spec or read_spec(prefix))
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # paddle2onnx leaves unused initializers; not news
        self.session = onnxruntime.InferenceSession(
            check_model_file(prefix, ".onnx", self.spec), options,
            providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def run(self, batch):
        return self.session.run(None, {self.input_name: batch})[0]


class DygraphPredictor(Predictor):
    """A training checkpoint run as a dygraph network (no export needed)."""

    def __init__(self, prefix, overrides=()):
        loaded = load_network(prefix, overrides)
        self.network = loaded.network
        super().__init__(spec_for(loaded))
        self.lock = threading.Lock()

    def run(self, batch):
        with self.lock:
            return forward(self.network, batch)


def spec_for(loaded):
    """The ExportSpec of a loaded network (model files are added by the export)."""
    config, size = loaded.config, input_size_of(loaded.config)
    classes = num_classes(loaded.network, size)
    return ExportSpec(model=config.model.name, input_size=size, mean=config.data.mean,
                      std=config.data.std, class_names=[str(i) for i in range(classes)],
                      source=loaded.checkpoint.prefix, source_epoch=loaded.epoch)


def open_predictor(path, backend="paddle", **options):
    """A Predictor for an exported model prefix or a checkpoint prefix.

    `inference/mnist` (with `inference/mnist.preprocess.json`) runs with
    `backend` ('paddle' or 'onnx'); a checkpoint prefix such as `output/mnist`
    runs its dygraph network. `options` go to the backend's constructor.
    """
    if backend not in BACKENDS:
        raise ExportError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    prefix = model_prefix(path)
    if os.path.isfile(prefix + SPEC_SUFFIX):
        cls = PaddlePredictor if backend == "paddle" else OnnxPredictor
        return cls(prefix, **options)
    if os.path.isfile(prefix + ckpt.META) or os.path.isfile(prefix + ckpt.PARAMS):
        if backend != "paddle":
            raise ExportError(f"{prefix} is a training checkpoint; the {backend} backend needs "
                              f"an exported model (tools/export.py --resume {prefix} --onnx)")
        return DygraphPredictor(prefix, **options)
    raise CheckpointError(f"no model at {prefix}: expected {prefix + SPEC_SUFFIX} (written by "
                          f"tools/export.py) or {prefix + ckpt.PARAMS} (a training checkpoint)")
