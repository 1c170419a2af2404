"""Initial schema: users, sessions, workshop_step_data, participation, progress, assessments.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonDocument = sa.JSON().with_variant(JSONB(), "postgresql")


def _user_fk() -> sa.Column[int]:
    return sa.Column(
        "user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, server_default="participant"),
        sa.Column(
            "facilitator_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        _user_fk(),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
    )
    op.create_index("idx_sessions_user", "sessions", ["user_id"])
    op.create_table(
        "workshop_step_data",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("workshop_type", sa.String(10), nullable=False),
        sa.Column("step_id", sa.String(20), nullable=False),
        sa.Column("data", JsonDocument, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_request_id", sa.String(100), nullable=True),
        sa.UniqueConstraint(
            "user_id",
            "workshop_type",
            "step_id",
            name="workshop_step_data_user_id_workshop_type_step_id_key",
        ),
    )
    op.create_index(
        "idx_workshop_step_data_user_workshop", "workshop_step_data", ["user_id", "workshop_type"]
    )
    op.create_index("idx_workshop_step_data_step", "workshop_step_data", ["step_id"])
    op.create_table(
        "workshop_participation",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("workshop_type", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("reopened_at", sa.DateTime(), nullable=True),
        sa.Column(
            "reopened_by", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.UniqueConstraint(
            "user_id", "workshop_type", name="uq_workshop_participation_user_workshop"
        ),
    )
    op.create_table(
        "navigation_progress",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("workshop_type", sa.String(10), nullable=False),
        sa.Column("current_step_id", sa.String(20), nullable=True),
        sa.Column("completed_steps", JsonDocument, nullable=False),
        sa.Column("unlocked_steps", JsonDocument, nullable=False),
        sa.Column("video_progress", JsonDocument, nullable=False),
        sa.Column("last_visited_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "user_id", "workshop_type", name="uq_navigation_progress_user_workshop"
        ),
    )
    op.create_table(
        "assessments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _user_fk(),
        sa.Column("assessment_type", sa.String(50), nullable=False),
        sa.Column("results", JsonDocument, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "assessment_type", name="uq_assessments_user_type"),
    )


def downgrade() -> None:
    for table in (
        "assessments",
        "navigation_progress",
        "workshop_participation",
        "workshop_step_data",
        "sessions",
        "users",
    ):
        op.drop_table(table)
