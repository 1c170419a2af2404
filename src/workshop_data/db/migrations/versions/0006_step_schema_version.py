"""The schema version a step's document was written with: a nullable column on the step and
on its kept versions (so a restore brings back the version's own), null for every document
saved before (none was declared).

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

_TABLES = ("workshop_step_data", "workshop_step_history")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("schema_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("schema_version")
