"""The hapi callback that writes a run's VisualDL dashboard, and when it writes what.

    at the start of a new run   train/samples image, the graph
    every `scalars_every` steps train/loss (the mean over those steps), train/acc
    and at the end of an epoch  (the epoch's running accuracy), train/lr
    after each evaluation       eval/acc, eval/loss, epoch/train_seconds,
                                epoch/images_per_second; every `images_every`
                                evaluations eval/mistakes and eval/confusion_matrix;
                                every `curves_every` pr/digit_N and roc/digit_N;
                                every `histograms_every` weights/* (and gradients/*)
    when the run is complete    test/acc, test/loss, best/eval_acc, the test
                                digits' penultimate features, the hyper parameters

Steps are numbered by global step and everything else by epoch, both from
the run's offsets (`RunState.epoch_offset`, `step_offset`), so a fine-tune's
curves continue its source's. The last epoch always gets the every-N records.
Only the main process has a Dashboard (`paddle_mnist.dashboard.opened`).
"""

import contextlib
import io
import os
import sys
import time

import numpy as np
from paddle.callbacks import Callback
from paddle.static import InputSpec

from ..data import to_input
from ..errors import UserError
from ..metrics import MEAN_LOSS
from ..network import build_network, input_size_of
from . import records, views
from .writer import Writer

HISTOGRAM_BUCKETS = 30


def _scalar(value):
    return float(value[0] if isinstance(value, (list, tuple)) else value)


class Dashboard(Callback):
    """One run's VisualDL writer, fed by `Model.fit`'s callbacks and `finish`."""

    def __init__(self, training, state):
        super().__init__()
        self.training, self.state, self.shown = training, state, training.config.visualdl
        self.writer, self.new_run = None, not state.log_file
        self.gradients, self.hooks = {}, []

    def _epoch_id(self, epochs_done):
        return self.state.epoch_offset + epochs_done

    def _due(self, every):
        return self.epoch % every == 0 or self.epoch == self.training.config.train.epochs

    def open(self):
        """Create the run's record file, or cut a resumed run's back to its checkpoint."""
        state = self.state
        state.log_file = state.log_file or records.new_file_name()
        try:
            os.makedirs(state.log_dir, exist_ok=True)
            if not self.new_run:
                records.continue_file(os.path.join(state.log_dir, state.log_file),
                                      state.step_offset + state.steps_done,
                                      self._epoch_id(state.epochs_done))
        except OSError as err:
            raise UserError(f"cannot write VisualDL logs to {state.log_dir}: "
                            f"{err.strerror or err}; set output.log_dir to a writable "
                            "folder") from None
        with contextlib.redirect_stdout(io.StringIO()):  # "... exists, VisualDL will add logs"
            self.writer = Writer(logdir=state.log_dir, file_name=state.log_file)
        return self

    def flush(self):
        """Put every record on disk; called before each checkpoint save, so the
        records a checkpoint covers survive a crash right after it."""
        self.writer.flush()

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    # --- training -----------------------------------------------------------

    def on_train_begin(self, logs=None):
        self.step = self.state.step_offset + self.state.steps_done
        self.losses = []  # batch losses since the last train/loss point
        if not self.new_run:
            return
        if self.shown.images:
            images, labels = self.training.loader.first_batch()
            data = self.training.config.data
            self.writer.add_image("train/samples", views.samples_image(
                images.numpy(), labels.numpy(), data.mean, data.std), self.step)
        if self.shown.graph:
            self._log_graph()

    def _log_graph(self):
        import paddle

        config = self.training.config
        size = input_size_of(config)
        rng = paddle.get_rng_state()  # a fresh network's init must not shift training's stream
        try:
            network = build_network(config)  # VisualDL converts what it traces in place
        finally:
            paddle.set_rng_state(rng)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # VisualDL prints its failure
                self.writer.add_graph(network, [InputSpec([None, 1, size, size], "float32",
                                                          "image")])
        except Exception as err:  # paddle's tracer raises whatever the failing op raised
            problem = str(err).strip().splitlines()[-1].strip()[:200]
            print(f"note: no VisualDL graph for {config.model.name}: paddle {paddle.__version__}"
                  f" cannot trace it in its old IR ({problem}); the rest of the dashboard is "
                  "logged. See the network with: python tools/export.py --resume "
                  f"{self.training.prefix} --onnx, then visualdl --model "
                  "inference/mnist.onnx", file=sys.stderr)

    def on_epoch_begin(self, epoch=None, logs=None):
        self.epoch = self.state.epochs_done + 1  # this run's own count; ids add the offset
        self.started, self.images, self.first_batch = time.perf_counter(), 0, True

    def on_train_batch_begin(self, step, logs=None):
        if self.first_batch and self.shown.gradients and self._due(self.shown.histograms_every):
            for name, param in self.training.model.network.named_parameters():
                if not param.stop_gradient:
                    self.hooks.append(param.register_hook(
                        lambda grad, name=name: self.gradients.__setitem__(name, grad.numpy())))
        self.first_batch = False

    def on_train_batch_end(self, step, logs=None):
        logs = logs or {}
        for hook in self.hooks:
            hook.remove()
        self.hooks = []
        self.step += 1
        self.images += int(logs.get("batch_size", 0))
        if not self.shown.scalars:
            return
        self.losses.append(_scalar(logs["loss"]))
        # points at multiples of the global step (and at the end of each epoch), so a
        # resumed run logs the steps an uninterrupted one would have
        if self.step % self.shown.scalars_every == 0:
            self._train_point(logs)

    def _train_point(self, logs):
        self.writer.add_scalar("train/loss", float(np.mean(self.losses)), self.step)
        self.writer.add_scalar("train/acc", _scalar(logs["acc"]), self.step)
        self.writer.add_scalar("train/lr", self.model._optimizer.get_lr(), self.step)
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.train_seconds = time.perf_counter() - self.started
        if self.shown.scalars and self.losses:
            self._train_point(logs or {})

    # --- evaluation ---------------------------------------------------------

    def _predictions_wanted(self):
        shown = self.shown
        return (shown.images and self._due(shown.images_every)) or (
            (shown.pr_curves or shown.roc_curves) and self._due(shown.curves_every))

    def on_eval_begin(self, logs=None):
        outputs = self.training.eval_outputs
        if outputs is not None:
            outputs.active, outputs.last = self._predictions_wanted(), None

    def on_eval_end(self, logs=None):
        at, shown = self._epoch_id(self.epoch), self.shown
        if shown.scalars:
            self.writer.add_scalar("eval/acc", _scalar(logs["acc"]), at)
            self.writer.add_scalar("eval/loss", _scalar(logs[MEAN_LOSS]), at)
            self.writer.add_scalar("epoch/train_seconds", self.train_seconds, at)
            self.writer.add_scalar("epoch/images_per_second",
                                   self.images / max(self.train_seconds, 1e-9), at)
        outputs = self.training.eval_outputs
        if outputs is not None and outputs.active:
            outputs.active = False
            if outputs.last is not None:
                self._log_predictions(*outputs.last, at)
        if shown.histograms and self._due(shown.histograms_every):
            for name, param in self.training.model.network.named_parameters():
                self.writer.add_histogram(f"weights/{name}", param.numpy(), at,
                                          buckets=HISTOGRAM_BUCKETS)
            for name, grad in self.gradients.items():
                self.writer.add_histogram(f"gradients/{name}", grad, at, buckets=HISTOGRAM_BUCKETS)
            self.gradients = {}

    def _log_predictions(self, probabilities, labels, at):
        shown, split = self.shown, self.training.eval_split
        if shown.images and self._due(shown.images_every):
            images = self.training.data[split].images
            self.writer.add_image("eval/mistakes", views.mistakes_image(
                images, labels, probabilities, at), at)
            self.writer.add_image("eval/confusion_matrix", views.confusion_image(
                labels, probabilities, at, split), at)
        if self._due(shown.curves_every):
            for digit in range(probabilities.shape[1]):
                truth = labels == digit
                if shown.pr_curves:
                    self.writer.add_pr_curve(f"pr/digit_{digit}", truth,
                                             probabilities[:, digit], at)
                if shown.roc_curves:
                    self.writer.add_roc_curve(f"roc/digit_{digit}", truth,
                                              probabilities[:, digit], at)

    # --- the end --------------------------------------------------------------

    def finish(self, test):
        """The records of a complete run: its test score, the features of test
        digits and its hyper parameters (VisualDL shows them next to the scores)."""
        state, shown = self.state, self.shown
        at = self._epoch_id(state.epochs_done)
        if shown.scalars or shown.hparams:
            self.writer.add_scalar("test/acc", test["acc"], at)
            self.writer.add_scalar("test/loss", test["loss"], at)
            if state.best_epoch:
                self.writer.add_scalar("best/eval_acc", state.best_acc, at)
        if shown.embeddings:
            self._log_embeddings()
        if shown.hparams:
            self.writer.add_hparams(views.hyper_parameters(self.training.config),
                                    views.FINAL_METRICS)
        self.close()

    def _log_embeddings(self):
        test = self.training.data["test"]
        count = min(self.shown.embedding_samples, len(test))
        inputs = to_input(test.images[:count], *test.input_args)
        found = views.penultimate_features(self.training.model.network, inputs,
                                           self.training.config.train.eval_batch_size)
        if found is None:
            return  # no Linear layer: no penultimate features to show
        features, predicted = found
        # words, not numbers: VisualDL colours numbers on a scale, words one colour each
        named = [[f"digit {int(d)}" for d in digits] for digits in (test.labels[:count],
                                                                     predicted)]
        self.writer.add_embeddings("test/penultimate", mat=np.asarray(features),
                                   metadata=named, metadata_header=["label", "predicted"])
