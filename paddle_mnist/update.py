"""One turn of learning from corrections: new labels -> a candidate -> the gate -> current.

`tools/update.py --db URL --from output/mnist` runs the whole cycle, safe to
start from cron: it skips when fewer than `--min-new-labels` records were
labelled since the last candidate; otherwise it writes the labels it uses to
the work folder, fine-tunes the checkpoint on them with MNIST replay (a share
of every batch, `finetune` with a `data.extra` database source frozen at the
newest labelled record), exports the candidate, scores it and the current
version on the same MNIST test set and the same held-out user records, and
registers it: promoted, in the same transaction, only if its hold-out accuracy
rises and its MNIST accuracy drops by at most `max_mnist_drop`. Both figures
and the decision are printed and stored with the version.

Nothing is registered before that last transaction, so a crash (or a stop
signal) anywhere before it leaves the registry, and every server, as they
were. One update runs per database at a time (`store.registry.update_lock`).
"""

import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from .data import read_mnist
from .data.extra import database_samples, load_extra
from .errors import ConfigError, DataError

MAX_MNIST_DROP = 0.002   # 0.2 points of MNIST test accuracy
DEFAULT_EPOCHS = 2
DEFAULT_SHARE = 0.25     # of every batch from the users' records, the rest MNIST replay
DEFAULT_HOLDOUT = 0.2


@dataclass
class UpdateResult:
    skipped: str = ""             # why nothing was trained, if so
    version_id: int = 0
    promoted: bool = False
    decision: dict = field(default_factory=dict)


def accuracy(predictor, images, labels):
    if not len(labels):
        return None
    scores = np.concatenate([predictor.probabilities(images[start:start + 1000])
                             for start in range(0, len(labels), 1000)])
    return float((scores.argmax(axis=1) == labels).mean())


def gate(candidate, current, max_mnist_drop=MAX_MNIST_DROP):
    """(promote?, why): the hold-out must rise, MNIST may fall by max_mnist_drop at most."""
    if candidate["holdout"] is None:
        return False, "no held-out records to compare on; label more records"
    if not candidate["holdout"] > current["holdout"]:
        return False, (f"hold-out accuracy {candidate['holdout']:.2%} does not beat the current "
                       f"version's {current['holdout']:.2%}")
    if candidate["mnist"] < current["mnist"] - max_mnist_drop:
        return False, (f"MNIST test accuracy {candidate['mnist']:.2%} is more than "
                       f"{max_mnist_drop * 100:g} points below the current version's "
                       f"{current['mnist']:.2%}")
    return True, (f"hold-out {current['holdout']:.2%} -> {candidate['holdout']:.2%}, MNIST "
                  f"{current['mnist']:.2%} -> {candidate['mnist']:.2%}")


def run_update(db, source=None, *, work="updates", min_new_labels=1, epochs=DEFAULT_EPOCHS,
               lr=None, share=DEFAULT_SHARE, holdout=DEFAULT_HOLDOUT, seed=0,
               max_mnist_drop=MAX_MNIST_DROP, overrides=(), log=print):
    from .store import open_store
    from .store.registry import Registry, update_lock

    store = open_store(db, pool_size=2)
    registry = Registry(store)
    try:
        with update_lock(store, db):
            return _cycle(db, store, registry, source, work, min_new_labels, epochs, lr, share,
                          holdout, seed, max_mnist_drop, overrides, log)
    finally:
        store.close()


def _cycle(db, store, registry, source, work, min_new_labels, epochs, lr, share, holdout, seed,
           max_mnist_drop, overrides, log):
    from . import export, finetune
    from .predictors import open_predictor
    from .service import dataset
    from .service.models import exported_files, write_version
    from .service.recording import model_version

    current = registry.current()
    if current is None:
        raise ConfigError(f"{store.name} has no current model version; start the service on it "
                          "once (tools/serve.py --model inference/mnist --db ...) or promote one "
                          "with paddle-mnist models")
    trained_until = max((v.labels_until or 0 for v in registry.versions()), default=0)
    samples, skipped = database_samples(db)
    newest = max((record for _, _, _, record in samples), default=0)
    new = sum(record > trained_until for _, _, _, record in samples)
    if skipped:
        log(f"skipped {sum(skipped.values())} labelled record(s): "
            + ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items())))
    if new < min_new_labels:
        why = (f"{new} new labelled digit(s) since the last candidate (records up to "
               f"{trained_until}); --min-new-labels is {min_new_labels}")
        log(f"nothing to do: {why}")
        return UpdateResult(skipped=why)
    source = source or current.source_checkpoint
    if not source:
        raise ConfigError("give the checkpoint to fine-tune with --from (the current version "
                          "does not name one)")
    folder = os.path.join(work, time.strftime("%Y%m%d-%H%M%S"))
    labels = os.path.join(folder, "labels")
    dataset.export(store, labels)  # what this candidate learnt from, kept with it
    log(f"{len(samples)} labelled digits ({new} new), records up to {newest}; written to "
        f"{labels}")
    extra = {"db": db, "share": share, "holdout": holdout, "seed": seed, "until": newest}
    job = finetune.plan(source, lr=lr, epochs=epochs,
                        output=os.path.join(folder, "checkpoint", "mnist"),
                        overrides=[f"data.extra={json.dumps([extra])}", *overrides])
    log(f"fine-tuning {job.source} for {job.config.train.epochs} epochs at learning rate "
        f"{job.lr:g} with {share:.0%} of every batch from the records")
    job.run()
    exported = export.export(job.config.output.checkpoint, os.path.join(folder, "export", "mnist"),
                             onnx=".onnx" in (current.spec.get("files") or {}))
    held = load_extra(job.config.data.extra)[0]
    if not len(held.holdout_labels):
        raise DataError("no labelled record is held out to compare the models on; label more "
                        f"records or raise the hold-out share (now {holdout:g})")
    test_images, test_labels = read_mnist(job.config.data.root, "test")

    def scores(prefix):
        predictor = open_predictor(prefix, "paddle")
        return {"mnist": accuracy(predictor, test_images, test_labels),
                "holdout": accuracy(predictor, held.holdout_images, held.holdout_labels)}

    before = scores(write_version(registry, current.id, os.path.join(folder, "current")))
    after = scores(exported.prefix)
    promote, why = gate(after, before, max_mnist_drop)
    decision = {"promoted": promote, "reason": why, "current": {"id": current.id, **before},
                "candidate": after, "holdout_samples": int(len(held.holdout_labels)),
                "new_labels": new, "labels_until": newest, "max_mnist_drop": max_mnist_drop}
    version_id = registry.add(
        spec=exported.spec.to_json(), files=exported_files(exported.prefix, exported.spec),
        version=model_version(exported.spec), model_name=exported.spec.model,
        source_checkpoint=os.path.abspath(job.config.output.checkpoint),
        mnist_accuracy=after["mnist"], holdout={held.name: after["holdout"]},
        labels_until=newest, decision=decision, promote=promote)
    return UpdateResult(version_id=version_id, promoted=promote, decision=decision)
