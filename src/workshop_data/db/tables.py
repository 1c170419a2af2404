"""The schema. Migrations in `migrations/versions` build exactly this on both backends."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# Naive UTC timestamps, as in the spec's `TIMESTAMP` columns.
Timestamp = DateTime(timezone=False)


def _user_fk() -> Column[int]:
    return Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("email", String(254), nullable=True, unique=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False, server_default="participant"),
    Column(
        "facilitator_id",
        BigId,
        ForeignKey("users.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    # A facilitator's participants; also what deleting a facilitator must find (SET NULL).
    Index("idx_users_facilitator", "facilitator_id"),
)
# Usernames are unique in any letter case ("maria" and "MARIA" are one account), and sign-in
# finds a username in any case through this index.
Index("uq_users_username_lower", func.lower(users.c.username), unique=True)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _user_fk(),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    # SHA-256 of the session's device secret (the page's own cookie); a request needs both.
    Column("device_hash", String(64), nullable=False),
    Index("idx_sessions_user", "user_id"),
)

workshop_step_data = Table(
    "workshop_step_data",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("workshop_type", String(10), nullable=False),
    Column("step_id", String(20), nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("last_request_id", String(100), nullable=True),
    # The step's schema version the document was written with (null: none declared).
    Column("schema_version", Integer, nullable=True),
    UniqueConstraint(
        "user_id",
        "workshop_type",
        "step_id",
        name="workshop_step_data_user_id_workshop_type_step_id_key",
    ),
    Index("idx_workshop_step_data_user_workshop", "user_id", "workshop_type"),
    Index("idx_workshop_step_data_step", "step_id"),
)

# Every version of a step a save wrote (the current one included), pruned on each save to the
# last N versions plus the newest version of each hour for M days.
workshop_step_history = Table(
    "workshop_step_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("workshop_type", String(10), nullable=False),
    Column("step_id", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JsonDocument, nullable=False),
    Column("size", Integer, nullable=False),
    Column("preview", String(200), nullable=False),
    Column("saved_at", Timestamp, nullable=False),
    Column("schema_version", Integer, nullable=True),
    # "save": a save wrote this version; "device": a device's own text, kept before a merge
    # replaced it (its version is below 1: -1, -2, … in the order such copies were kept).
    Column("source", String(10), nullable=False, server_default="save"),
    UniqueConstraint(
        "user_id", "workshop_type", "step_id", "version", name="uq_workshop_step_history_version"
    ),
)

workshop_participation = Table(
    "workshop_participation",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("workshop_type", String(10), nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("completed_at", Timestamp, nullable=True),
    Column("reopened_at", Timestamp, nullable=True),
    Column("reopened_by", BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    UniqueConstraint("user_id", "workshop_type", name="uq_workshop_participation_user_workshop"),
)

navigation_progress = Table(
    "navigation_progress",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("workshop_type", String(10), nullable=False),
    Column("current_step_id", String(20), nullable=True),
    Column("completed_steps", JsonDocument, nullable=False),
    Column("unlocked_steps", JsonDocument, nullable=False),
    Column("video_progress", JsonDocument, nullable=False),
    Column("last_visited_at", Timestamp, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("user_id", "workshop_type", name="uq_navigation_progress_user_workshop"),
)

assessments = Table(
    "assessments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _user_fk(),
    Column("assessment_type", String(50), nullable=False),
    Column("results", JsonDocument, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("user_id", "assessment_type", name="uq_assessments_user_type"),
)

# Files a user uploaded (images a step document refers to as "/api/uploads/<id>"), stored once
# per user and content. `last_referenced_at` is when a step save (or a prune run) last saw one
# of the owner's step documents refer to the upload, or when it was uploaded; prune removes
# uploads unreferenced for longer than the retention (docs/operations.md).
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    _user_fk(),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(50), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_referenced_at", Timestamp, nullable=False),
    UniqueConstraint("user_id", "sha256", name="uq_uploads_user_sha256"),
    Index("idx_uploads_last_referenced", "last_referenced_at"),
)
