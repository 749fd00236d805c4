"""The model registry: which exported model every server of a database runs.

Like MLflow's registry or TorchServe's management API, each version moves
through candidate -> current -> retired. Exactly one version is current; a
version becomes current in one transaction, and only after the sha256 of
each of its files (kept in the database, so servers on other machines load
the same bytes) has been checked against its export description. A crash
anywhere before that commit leaves the registry as it was. `rollback` makes
the version that was current before the current one current again.
"""

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import select, update

from ..errors import StoreError, UpdateRunning
from .records import utc
from .schema import ModelFile, ModelVersion


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: str
    model_name: str
    status: str
    created_at: datetime
    promoted_at: Optional[datetime]
    source_checkpoint: Optional[str]
    mnist_accuracy: Optional[float]
    holdout: Optional[dict]
    labels_until: Optional[int]
    decision: Optional[dict]
    spec: dict


def _info(row):
    return VersionInfo(row.id, row.version, row.model_name, row.status, utc(row.created_at),
                       utc(row.promoted_at), row.source_checkpoint, row.mnist_accuracy,
                       row.holdout, row.labels_until, row.decision, row.spec)


def _check_files(spec, files, what):
    """Every file the description lists is there with its sha256, and nothing else."""
    listed = spec.get("files") or {}
    if set(listed) != set(files):
        raise StoreError(f"{what}: its files {sorted(files)} are not the ones its description "
                         f"lists {sorted(listed)}")
    for suffix, data in files.items():
        if hashlib.sha256(data).hexdigest() != listed[suffix]:
            raise StoreError(f"{what}: its {suffix} file does not match its sha256; nothing "
                             "was changed")


class Registry:
    """Model versions in a `Store`'s database; every call is one transaction."""

    def __init__(self, store):
        self.store = store

    def versions(self):
        """Every version, newest first."""
        with self.store.guard("read"), self.store.read_session() as session:
            rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id.desc()))
            return [_info(row) for row in rows]

    def get(self, version_id):
        with self.store.guard("read"), self.store.read_session() as session:
            row = session.get(ModelVersion, version_id)
            return None if row is None else _info(row)

    def find(self, version):
        """The registered version whose sha256 is `version`, or None."""
        query = select(ModelVersion).where(ModelVersion.version == version)
        with self.store.guard("read"), self.store.read_session() as session:
            row = session.scalars(query).first()
            return None if row is None else _info(row)

    def current(self):
        """The current version, or None before any was promoted."""
        query = select(ModelVersion).where(ModelVersion.status == "current")
        with self.store.guard("read"), self.store.read_session() as session:
            row = session.scalars(query).first()
            return None if row is None else _info(row)

    def current_id(self):
        """Just the current version's id: what every server polls, so it is cheap."""
        query = select(ModelVersion.id).where(ModelVersion.status == "current")
        with self.store.guard("read"), self.store.read_session() as session:
            return session.scalar(query)

    def files(self, version_id):
        """{suffix: bytes} of a version, each checked against its sha256."""
        with self.store.guard("read"), self.store.read_session() as session:
            row = session.get(ModelVersion, version_id)
            if row is None:
                raise StoreError(f"model version {version_id} does not exist")
            files = {file.suffix: file.data for file in row.files}
            _check_files(row.spec, files, f"model version {version_id}")
            return files

    def add(self, *, spec, files, version, model_name, source_checkpoint=None,
            mnist_accuracy=None, holdout=None, labels_until=None, decision=None,
            promote=False):
        """Register an export (its description and file bytes); returns its id.

        With `promote`, it becomes current in the same transaction, so a version
        is never current without its files, and the one before is retired.
        """
        _check_files(spec, files, f"model {model_name}")
        now = datetime.now(timezone.utc)
        with self.store.guard("write to"), self.store.write_session.begin() as session:
            if session.scalar(select(ModelVersion.id).where(ModelVersion.version == version)):
                raise StoreError(f"model version {version[:12]} is registered already")
            row = ModelVersion(
                created_at=now, model_name=model_name, version=version, status="candidate",
                source_checkpoint=source_checkpoint, spec=spec, mnist_accuracy=mnist_accuracy,
                holdout=holdout, labels_until=labels_until, decision=decision,
                files=[ModelFile(suffix=suffix, sha256=hashlib.sha256(data).hexdigest(),
                                 data=data) for suffix, data in files.items()])
            session.add(row)
            session.flush()
            if promote:
                self._make_current(session, row, now)
            return row.id

    def promote(self, version_id):
        """Make a version current (its files checked first); the current one retires."""
        with self.store.guard("write to"), self.store.write_session.begin() as session:
            row = session.get(ModelVersion, version_id)
            if row is None:
                raise StoreError(f"model version {version_id} does not exist; see "
                                 "`paddle-mnist models list`")
            if row.status == "current":
                return _info(row)
            _check_files(row.spec, {f.suffix: f.data for f in row.files},
                         f"model version {version_id}")
            self._make_current(session, row, datetime.now(timezone.utc))
            return _info(row)

    def rollback(self):
        """Make the version that was current before the current one current again."""
        with self.store.guard("write to"), self.store.write_session.begin() as session:
            current = session.scalars(select(ModelVersion).where(
                ModelVersion.status == "current")).first()
            if current is None:
                raise StoreError("no model version is current, so there is nothing to roll "
                                 "back; promote one with `paddle-mnist models promote ID`")
            previous = session.scalars(
                select(ModelVersion).where(ModelVersion.status == "retired",
                                           ModelVersion.promoted_at.is_not(None),
                                           ModelVersion.id != current.id)
                .order_by(ModelVersion.promoted_at.desc())).first()
            if previous is None:
                raise StoreError(f"version {current.id} is the only one ever current; there is "
                                 "no earlier version to roll back to")
            _check_files(previous.spec, {f.suffix: f.data for f in previous.files},
                         f"model version {previous.id}")
            current.status = "retired"
            session.flush()
            previous.status = "current"
            previous.promoted_at = datetime.now(timezone.utc)
            return _info(current), _info(previous)

    @staticmethod
    def _make_current(session, row, now):
        session.execute(update(ModelVersion).where(ModelVersion.status == "current",
                                                   ModelVersion.id != row.id)
                        .values(status="retired"))
        row.status = "current"
        row.promoted_at = now


# pg_try_advisory_lock key of the update cycle: one update per database at a time
UPDATE_LOCK_KEY = 0x6D6E6973742D7570  # "mnist-up"


@contextlib.contextmanager
def update_lock(store, url):
    """Held for a whole update cycle; a second one refuses in one line.

    On PostgreSQL a session-level advisory lock on a connection kept open for
    the cycle (the server releases it when that connection or process dies);
    on SQLite a lock file next to the database file."""
    busy = ("another model update is running on {} ({}); wait for it to finish, it is "
            "never run twice on one set of labels")
    if store.engine.dialect.name == "postgresql":
        with store.guard("lock"), store.engine.connect() as connection:
            if not connection.exec_driver_sql(
                    f"SELECT pg_try_advisory_lock({UPDATE_LOCK_KEY})").scalar():
                raise UpdateRunning(busy.format(store.name, "it holds the database's "
                                                "update lock"))
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({UPDATE_LOCK_KEY})")
        return
    import filelock

    lock = filelock.FileLock(store.engine.url.database + ".update.lock", timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise UpdateRunning(busy.format(store.name, "its .update.lock is held")) from None
    try:
        yield
    finally:
        lock.release()
