"""Which model a server answers with, and switching it without a restart.

A server started with `--model inference/mnist` on a record database serves
the registry's current version (`store.registry`): on an empty registry the
export it was given becomes version 1, current. Every `poll_seconds` one
request checks which version is current (one small query); when another was
promoted (or rolled back to), that request loads it from the database's
copy of its files into a private folder, its sha256 checked on the way, and
swaps it in. Requests already running keep the model object they started
with, so they finish on the old one; every record names the version that
answered it. A version that cannot be loaded is logged and the old model
keeps serving.
"""

import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Optional

from ..errors import CheckpointError, ExportError, StoreError
from ..exported import SPEC_SUFFIX
from .recording import model_version

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class Live:
    """The model answering now: its predictor, version (sha256) and registry id."""

    predictor: object
    version: str
    version_id: Optional[int] = None

    @property
    def spec(self):
        return self.predictor.spec


class FixedModel:
    """One model, never switched (a checkpoint served without export, and tests)."""

    def __init__(self, predictor, version):
        self.live = Live(predictor, version)

    def current(self):
        return self.live

    def close(self):
        pass


class RegistryModels:
    """The registry's current version, followed (see the module docstring)."""

    def __init__(self, registry, backend, live, poll_seconds=POLL_SECONDS):
        self.registry, self.backend, self.live = registry, backend, live
        self.poll_seconds = poll_seconds
        self.checked = time.monotonic()
        self.loading = threading.Lock()
        self.folder = tempfile.mkdtemp(prefix="paddle-mnist-models-")

    def current(self):
        if (time.monotonic() - self.checked >= self.poll_seconds
                and self.loading.acquire(blocking=False)):  # one request checks, none waits
            try:
                self.checked = time.monotonic()
                self._follow()
            finally:
                self.loading.release()
        return self.live

    def _follow(self):
        try:
            wanted = self.registry.current_id()
        except StoreError as err:
            log.warning("cannot check the model registry (%s); still serving version %s",
                        err, self.live.version_id)
            return
        if wanted is not None and wanted != self.live.version_id:
            try:
                self.live = self.open_version(wanted)
                log.warning("now serving model version %s (%s)", wanted, self.live.version[:12])
            except (StoreError, ExportError, CheckpointError, OSError) as err:
                log.error("cannot switch to model version %s (%s); still serving version %s",
                          wanted, err, self.live.version_id)

    def open_version(self, version_id):
        """A Live for a registered version, from the database's copy of its files."""
        from ..predictors import open_predictor

        prefix = write_version(self.registry, version_id, os.path.join(self.folder,
                                                                        f"v{version_id}"))
        return Live(open_predictor(prefix, self.backend), self.registry.get(version_id).version,
                    version_id)

    def close(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def write_version(registry, version_id, folder):
    """Write a registered version's export (files checked against their sha256, and
    its description) into `folder`; returns the prefix to open it from."""
    from ..exported import ExportSpec, write_spec
    from ..typed_json import build

    info = registry.get(version_id)
    files = registry.files(version_id)
    os.makedirs(folder, exist_ok=True)
    prefix = os.path.join(folder, "mnist")
    for suffix, data in files.items():
        with open(prefix + suffix, "wb") as f:
            f.write(data)
    write_spec(prefix + SPEC_SUFFIX, build(ExportSpec, info.spec))
    return prefix


def exported_files(prefix, spec):
    """{suffix: bytes} of an export's model files, as its description lists them."""
    files = {}
    for suffix in spec.files:
        with open(prefix + suffix, "rb") as f:
            files[suffix] = f.read()
    return files


def follow_registry(store, predictor, prefix, backend, poll_seconds=POLL_SECONDS):
    """The models a server answers with: the registry's current version, the
    export at `prefix` registered as the first one when there is none yet."""
    from ..exported import model_prefix
    from ..store.registry import Registry

    version = model_version(predictor.spec)
    if not predictor.spec.files:  # a training checkpoint, not an export: not versioned
        return FixedModel(predictor, version)
    registry = Registry(store)
    current = registry.current()
    if current is None:
        registered = registry.find(version)
        if registered is None:
            try:
                registry.add(spec=predictor.spec.to_json(),
                             files=exported_files(model_prefix(prefix), predictor.spec),
                             version=version, model_name=predictor.spec.model,
                             source_checkpoint=predictor.spec.source, promote=True,
                             decision={"promoted": True,
                                       "reason": "the first model this database served"})
            except StoreError:  # another server registered it a moment ago
                pass
        else:
            registry.promote(registered.id)
        current = registry.current()
    models = RegistryModels(registry, backend, Live(predictor, version, current.id),
                            poll_seconds)
    if current.version != version:
        log.warning("serving the registry's current model version %s instead of %s "
                    "(paddle-mnist models list shows them)", current.id, prefix)
        models.live = models.open_version(current.id)
    return models
