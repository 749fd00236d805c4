"""The model registry: every exported version the service can run, and its files.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

model_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "model_versions",
        sa.Column("id", model_id, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("source_checkpoint", sa.String(1024), nullable=True),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("mnist_accuracy", sa.Float(), nullable=True),
        sa.Column("holdout", sa.JSON(), nullable=True),
        sa.Column("labels_until", sa.BigInteger(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('candidate', 'current', 'retired')",
                           name="ck_model_versions_status"),
    )
    op.create_index("uq_model_versions_one_current", "model_versions", ["status"], unique=True,
                    sqlite_where=sa.text("status = 'current'"),
                    postgresql_where=sa.text("status = 'current'"))
    op.create_table(
        "model_files",
        sa.Column("model_id", model_id, sa.ForeignKey("model_versions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("suffix", sa.String(16), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade():
    op.drop_table("model_files")
    op.drop_index("uq_model_versions_one_current", table_name="model_versions")
    op.drop_table("model_versions")
