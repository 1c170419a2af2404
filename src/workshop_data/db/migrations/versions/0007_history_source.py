"""Where a kept version of a step came from: `save` (a save wrote it, as every row so far) or
`device` (a device's own text it was about to replace with a merge, kept so that no version a
device held is lost).

Revision ID: 0007_history_source
Revises: 0006_step_schema_version
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_history_source"
down_revision: str | None = "0006_step_schema_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workshop_step_history",
        sa.Column("source", sa.String(10), nullable=False, server_default="save"),
    )


def downgrade() -> None:
    # Device copies have versions no save wrote (below 1): without the column they would
    # pass for saves.
    op.execute("DELETE FROM workshop_step_history WHERE source <> 'save'")
    with op.batch_alter_table("workshop_step_history") as batch:
        batch.drop_column("source")
