"""A session also needs its device secret: the SHA-256 of a second, script-readable cookie
that the page deletes to sign out on this browser even without the network
(docs/operations.md, "Sign-out on a shared computer"). Sessions from before have none, so
they end here: everyone signs in once more (what the browser kept unsent stays in its journal
and is sent after that sign-in).

Revision ID: 0008_session_device_secret
Revises: 0007_history_source
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_session_device_secret"
down_revision: str | None = "0007_history_source"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM sessions"))
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("device_hash", sa.String(64), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("device_hash")
