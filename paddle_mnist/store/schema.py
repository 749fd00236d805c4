"""The record database's tables, as SQLAlchemy 2 declarative classes.

A recognition is one `Record` row of kind "digit" (one 28x28 image) or
"number" (several 28x28 digit images, each with its box in the original
picture's pixels) and one `RecordImage` row per 28x28 image the model saw.
Results and labels are text ("7", "4071"), so both kinds share the columns.
The Alembic migrations in `migrations/versions` build exactly these tables;
`tests/test_store.py` checks that the two never drift apart.
"""

from datetime import datetime
from typing import List, Optional

from sqlalchemy import (JSON, BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index,
                        Integer, LargeBinary, String, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

KINDS = ("digit", "number")
LABEL_LENGTH = 64  # a number of up to 64 digits; longer text is not a label


class Base(DeclarativeBase):
    pass


# SQLite assigns ids only to a column declared exactly INTEGER PRIMARY KEY
RecordId = BigInteger().with_variant(Integer, "sqlite")


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        CheckConstraint("kind IN ('digit', 'number')", name="ck_records_kind"),
        Index("ix_records_model_version_label", "model_version", "label"),
    )

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(8))
    model_name: Mapped[str] = mapped_column(String(64))
    # sha256 over the export's model files (see paddle_mnist.service.recording)
    model_version: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    # digit: the class probabilities; number: one such list per digit
    probabilities: Mapped[list] = mapped_column(JSON)
    latency_ms: Mapped[float] = mapped_column(Float)
    label: Mapped[Optional[str]] = mapped_column(String(LABEL_LENGTH))
    labelled_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))
    # the uploaded file, only when the server runs with --keep-originals
    original: Mapped[Optional[bytes]] = mapped_column(LargeBinary)

    images: Mapped[List["RecordImage"]] = relationship(
        back_populates="record", order_by="RecordImage.position", lazy="selectin",
        cascade="all, delete-orphan")


class RecordImage(Base):
    __tablename__ = "record_images"

    record_id: Mapped[int] = mapped_column(RecordId, ForeignKey("records.id", ondelete="CASCADE"),
                                           primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    # where the digit was in the original picture (left, top, right, bottom);
    # empty for a single digit, which is the whole picture
    box_left: Mapped[Optional[int]] = mapped_column(Integer)
    box_top: Mapped[Optional[int]] = mapped_column(Integer)
    box_right: Mapped[Optional[int]] = mapped_column(Integer)
    box_bottom: Mapped[Optional[int]] = mapped_column(Integer)

    record: Mapped[Record] = relationship(back_populates="images")


STATUSES = ("candidate", "current", "retired")


class ModelVersion(Base):
    """One exported model the service can run: a candidate until the update gate
    promotes it, then current (one at a time), then retired by the next one."""

    __tablename__ = "model_versions"
    __table_args__ = (
        CheckConstraint("status IN ('candidate', 'current', 'retired')",
                        name="ck_model_versions_status"),
        # at most one current version, whatever two promotions racing each other do
        Index("uq_model_versions_one_current", "status", unique=True,
              sqlite_where=text("status = 'current'"),
              postgresql_where=text("status = 'current'")),
    )

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    model_name: Mapped[str] = mapped_column(String(64))
    # what records store as model_version (service.recording.model_version)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    source_checkpoint: Mapped[Optional[str]] = mapped_column(String(1024))
    spec: Mapped[dict] = mapped_column(JSON)   # the export's .preprocess.json
    mnist_accuracy: Mapped[Optional[float]] = mapped_column(Float)
    holdout: Mapped[Optional[dict]] = mapped_column(JSON)   # accuracy on each user hold-out
    # the newest labelled record it was trained with: one set of labels, one promotion
    labels_until: Mapped[Optional[int]] = mapped_column(BigInteger)
    decision: Mapped[Optional[dict]] = mapped_column(JSON)  # the gate's figures and verdict
    promoted_at: Mapped[Optional[datetime]] = mapped_column(DateTime(timezone=True))

    files: Mapped[List["ModelFile"]] = relationship(
        back_populates="model", lazy="selectin", cascade="all, delete-orphan")


class ModelFile(Base):
    """The bytes of one file of an export (.json, .pdiparams, .onnx), kept in the
    database so every server sharing it can load the version, whatever machine."""

    __tablename__ = "model_files"

    model_id: Mapped[int] = mapped_column(RecordId, ForeignKey("model_versions.id",
                                                               ondelete="CASCADE"),
                                          primary_key=True)
    suffix: Mapped[str] = mapped_column(String(16), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    model: Mapped[ModelVersion] = relationship(back_populates="files")
