"""Keep, label, list and count the service's recognitions.

`Store` is the whole interface the service and `tools/dataset.py` use. Every
call is one short transaction; every database failure (down, full, read-only,
locked for too long) becomes a `StoreError` saying so, which the service
answers with 503 and the tools print as one line. A failed write leaves no
partial record: the record and its images are inserted in one transaction.
"""

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Optional, Sequence, Tuple

from sqlalchemy import case, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from ..errors import StoreError
from . import migrate
from .database import WRITE, describe_url, open_engine
from .schema import KINDS, Record, RecordImage

MAX_LIST = 100  # records per page of a listing, whatever the caller asks for
BOX_COLUMNS = ("box_left", "box_top", "box_right", "box_bottom")


@dataclass(frozen=True)
class DigitImage:
    """One 28x28 image the model saw (PNG), and for a digit cut out of a
    number its box (left, top, right, bottom) in the original picture."""

    png: bytes
    box: Optional[Tuple[int, int, int, int]] = None


@dataclass(frozen=True)
class Recognition:
    """What one request was answered with: kind "digit" (one image, result
    "7", probabilities a list per class) or "number" (one image per digit,
    result "4071", probabilities a list per digit)."""

    kind: str
    model_name: str
    model_version: str
    result: str
    probabilities: list
    latency_ms: float
    images: Sequence[DigitImage]
    original: Optional[bytes] = field(default=None, repr=False)


def open_store(value, pool_size=8):
    """A Store on `value` (file path or URL), its schema upgraded to the newest."""
    store = Store(open_engine(value, pool_size=pool_size))
    with store.guard("upgrade the schema of"):
        migrate.upgrade(store.engine)
    return store


def utc(moment):
    """Times in UTC: SQLite hands them back naive, PostgreSQL in the session's zone."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else \
        moment.replace(tzinfo=timezone.utc)


def record_dict(record):
    return {
        "id": record.id, "created_at": utc(record.created_at), "kind": record.kind,
        "model": {"name": record.model_name, "version": record.model_version},
        "result": record.result, "probabilities": record.probabilities,
        "latency_ms": record.latency_ms, "label": record.label,
        "labelled_at": utc(record.labelled_at),
        "wrong": None if record.label is None else record.label != record.result,
        "images": [{"png": image.png,
                    "box": None if image.box_left is None else
                    [getattr(image, column) for column in BOX_COLUMNS]}
                   for image in record.images],
        "has_original": record.original is not None,
    }


class Store:
    def __init__(self, engine):
        self.engine = engine
        self.read_session = sessionmaker(engine, expire_on_commit=False)
        self.writer = engine.execution_options(**WRITE)
        self.write_session = sessionmaker(self.writer, expire_on_commit=False)

    @property
    def name(self):
        return describe_url(self.engine.url)

    @contextlib.contextmanager
    def guard(self, action):
        try:
            yield
        except SQLAlchemyError as err:
            reason = getattr(err, "orig", None) or err
            first_line = (str(reason).strip().splitlines() or [""])[0][:200]
            raise StoreError(f"cannot {action} the record database {self.name} "
                             f"({type(reason).__name__}: {first_line})") from None

    def add(self, recognition):
        """Insert one recognition and its images; returns the new record's id.

        Core inserts rather than the ORM's unit of work: this runs once per
        prediction, and the ORM's bookkeeping cost more than SQLite's commit.
        """
        if recognition.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {recognition.kind!r}")
        values = {"created_at": datetime.now(timezone.utc), "kind": recognition.kind,
                  "model_name": recognition.model_name,
                  "model_version": recognition.model_version, "result": recognition.result,
                  "probabilities": recognition.probabilities,
                  "latency_ms": float(recognition.latency_ms), "original": recognition.original}
        with self.guard("write to"), self.writer.begin() as connection:
            record_id = connection.execute(insert(Record), values).inserted_primary_key[0]
            connection.execute(insert(RecordImage), [
                {"record_id": record_id, "position": position, "png": image.png,
                 **dict(zip(BOX_COLUMNS, image.box or (None,) * 4))}
                for position, image in enumerate(recognition.images)])
        return record_id

    def label(self, record_id, label):
        """Set (or replace) a record's label; returns the record, None if there is none."""
        with self.guard("write to"), self.write_session.begin() as session:
            record = session.get(Record, record_id)
            if record is None:
                return None
            record.label = label
            record.labelled_at = datetime.now(timezone.utc)
            session.flush()
            return record_dict(record)

    def get(self, record_id):
        with self.guard("read"), self.read_session() as session:
            record = session.get(Record, record_id)
            return None if record is None else record_dict(record)

    def kind_of(self, record_id):
        with self.guard("read"), self.read_session() as session:
            return session.scalar(select(Record.kind).where(Record.id == record_id))

    def list(self, labelled=None, wrong=None, limit=20, before=None):
        """Newest first; `before` (an id) pages back; at most MAX_LIST records."""
        query = select(Record).order_by(Record.id.desc()).limit(max(1, min(limit, MAX_LIST)))
        if labelled is not None:
            query = query.where(Record.label.is_not(None) if labelled else Record.label.is_(None))
        if wrong is not None:
            query = query.where(Record.label.is_not(None),
                                (Record.label != Record.result) if wrong
                                else (Record.label == Record.result))
        if before is not None:
            query = query.where(Record.id < before)
        with self.guard("read"), self.read_session() as session:
            return [record_dict(record) for record in session.scalars(query)]

    def stats(self, model_version):
        """Counts, and the accuracy of `model_version` on the records labelled for it."""
        labelled = Record.label.is_not(None)
        correct = func.sum(case((Record.label == Record.result, 1), else_=0))
        live = (Record.model_version == model_version) & labelled
        with self.guard("read"), self.read_session() as session:
            total, n_labelled, n_wrong = session.execute(select(
                func.count(), func.count(Record.label),
                func.sum(case((labelled & (Record.label != Record.result), 1), else_=0)))).one()
            live_labelled, live_correct = session.execute(
                select(func.count(), correct).where(live)).one()
            per_class = session.execute(
                select(Record.label, func.count(), correct)
                .where(live, Record.kind == "digit").group_by(Record.label)).all()
        return {"records": total, "labelled": n_labelled, "wrong": n_wrong or 0,
                "live_model": {"version": model_version, **rate(live_labelled, live_correct),
                               "per_class": {label: rate(count, right)
                                             for label, count, right in sorted(per_class)}}}

    def labelled_records(self, batch=500):
        """Every labelled record, oldest first, read `batch` at a time."""
        query = select(Record).where(Record.label.is_not(None)).order_by(Record.id)
        with self.guard("read"), self.read_session() as session:
            for record in session.scalars(query.execution_options(yield_per=batch)):
                yield record_dict(record)

    def close(self):
        self.engine.dispose()


def rate(labelled, correct):
    correct = correct or 0
    return {"labelled": labelled, "correct": correct,
            "accuracy": round(correct / labelled, 4) if labelled else None}
