"""Uploads: image files stored in the database, once per user and SHA-256.

Revision ID: 0003_uploads
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_uploads"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        # BYTEA on PostgreSQL, BLOB on SQLite.
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_referenced_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "sha256", name="uq_uploads_user_sha256"),
    )
    op.create_index("idx_uploads_last_referenced", "uploads", ["last_referenced_at"])


def downgrade() -> None:
    op.drop_index("idx_uploads_last_referenced", table_name="uploads")
    op.drop_table("uploads")
