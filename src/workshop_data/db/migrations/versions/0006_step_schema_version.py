"""The schema version a step's document was written with: a nullable column, null for every
document saved before (none was declared).

Revision ID: 0006_step_schema_version
Revises: 0005_usernames_any_case
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_step_schema_version"
down_revision: str | None = "0005_usernames_any_case"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workshop_step_data", sa.Column("schema_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workshop_step_data") as batch:
        batch.drop_column("schema_version")
