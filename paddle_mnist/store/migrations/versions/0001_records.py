"""Records of what the service read, with their 28x28 images and labels.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

record_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "records",
        sa.Column("id", record_id, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("label", sa.String(64), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("original", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint("kind IN ('digit', 'number')", name="ck_records_kind"),
    )
    op.create_index("ix_records_model_version_label", "records", ["model_version", "label"])
    op.create_table(
        "record_images",
        sa.Column("record_id", record_id, sa.ForeignKey("records.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("box_left", sa.Integer(), nullable=True),
        sa.Column("box_top", sa.Integer(), nullable=True),
        sa.Column("box_right", sa.Integer(), nullable=True),
        sa.Column("box_bottom", sa.Integer(), nullable=True),
    )


def downgrade():
    op.drop_table("record_images")
    op.drop_index("ix_records_model_version_label", table_name="records")
    op.drop_table("records")
