"""Index users.facilitator_id: a facilitator's participant list, and the SET NULL on delete.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("idx_users_facilitator", "users", ["facilitator_id"])


def downgrade() -> None:
    op.drop_index("idx_users_facilitator", table_name="users")
