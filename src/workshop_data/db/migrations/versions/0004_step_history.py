"""Step history: every version a save wrote, pruned to the last N plus one per hour for M days.

The current version of every existing step becomes its first history row, so the first change
after the upgrade can already be undone.

Revision ID: 0004_step_history
Revises: 0003_uploads
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004_step_history"
down_revision: str | None = "0003_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonDocument = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "workshop_step_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workshop_type", sa.String(10), nullable=False),
        sa.Column("step_id", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("preview", sa.String(200), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "user_id",
            "workshop_type",
            "step_id",
            "version",
            name="uq_workshop_step_history_version",
        ),
    )
    # Sizes and previews of existing steps are approximate (the stored text's length, no
    # preview); new versions get exact ones.
    if op.get_context().dialect.name == "postgresql":
        length = "octet_length(data::text)"
    else:
        length = "length(CAST(data AS BLOB))"
    columns = "user_id, workshop_type, step_id, version, data"
    op.execute(
        f"INSERT INTO workshop_step_history ({columns}, size, preview, saved_at) "  # noqa: S608
        f"SELECT {columns}, {length}, '', updated_at FROM workshop_step_data"
    )


def downgrade() -> None:
    op.drop_table("workshop_step_history")
