from functools import cached_property
from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workshop_data.db.url import to_async_url

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Every setting reads `WORKSHOP_DATA_<NAME>` from the environment."""

    model_config = SettingsConfigDict(env_prefix="WORKSHOP_DATA_", extra="ignore")

    database_url: str = "sqlite:///./workshop-data.db"
    # Connections each worker keeps open (on SQLite besides the one its step saves are
    # written on, db/sqlite_writer.py). Above them a request waits for one (up to 30 s, then
    # 503): an overflow connection is opened for one request and closed after it, which under
    # load costs more than the wait (docs/benchmarks.md).
    database_pool_size: int = Field(default=20, ge=1)
    database_pool_overflow: int = Field(default=0, ge=0)
    # PostgreSQL reached through PgBouncer in transaction pooling mode (before 1.21, which
    # cannot keep prepared statements): no statement cache, uniquely named statements, and
    # every statement inside a transaction (see docs/operations.md).
    database_pgbouncer: bool = False
    # FULL survives power loss as well as a killed process; NORMAL survives only the latter.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    session_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=60)
    session_cookie_name: str = "wd_session"
    # None: Secure only when the request arrived over https (directly or via X-Forwarded-Proto).
    session_cookie_secure: bool | None = None

    # Sign-in attempts that failed or are under way (a success gives its own back), counted
    # before the password is verified (auth/throttle.py, docs/operations.md):
    # per account (whatever alias is typed) from one client address: the limit on guessing;
    login_account_address_rate_limit: str = "10/5minutes"
    # per client address, whatever the name: generous, for a classroom behind one NAT address;
    login_address_rate_limit: str = "300/5minutes"
    # per account from all addresses together: a ceiling only a guess spread over many
    # addresses reaches.
    login_account_rate_limit: str = "100/5minutes"
    rate_limit_storage_url: str = "async+memory://"
    # argon2 hashes at once per worker (64 MiB each), and how many sign-ins may wait for one
    # and for how long before they are refused with 503 and Retry-After.
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    password_hash_max_waiting: int = Field(default=64, ge=0)
    password_hash_max_wait_seconds: float = Field(default=10.0, gt=0)

    allowed_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])

    max_body_bytes: int = Field(default=8 * MiB + 64 * 1024, ge=1024)
    max_document_bytes: int = Field(default=8 * MiB, ge=1024)
    max_json_depth: int = Field(default=64, ge=2, le=512)
    max_json_values: int = Field(default=200_000, ge=10)
    max_object_keys: int = Field(default=10_000, ge=1)
    max_key_length: int = Field(default=200, ge=1)

    # Raw image bodies of POST /api/uploads; this limit replaces max_body_bytes on that route.
    max_upload_bytes: int = Field(default=10 * MiB, ge=1024)
    # `workshop-data uploads prune` removes uploads no step referred to for this long.
    upload_retention_days: int = Field(default=30, ge=1)

    # Step history: every save keeps the last `history_versions` versions of a step plus the
    # newest version of each hour for `history_hourly_days` days. Both 0: no history.
    history_versions: int = Field(default=20, ge=0, le=1000)
    history_hourly_days: int = Field(default=30, ge=0, le=3650)

    # Live events (GET /api/events, docs/operations.md "Live events"). Unset: events stay in
    # the process (one process, the embedded default); `redis://host:port/db` shares them
    # between every worker and machine through a Redis stream.
    events_url: SecretStr | None = None
    # The Redis stream's name; by default one derived from database_url.
    events_channel: str | None = Field(default=None, min_length=1, max_length=200)
    # A comment line on every idle stream this often, so proxies keep it open.
    events_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # The reconnection delay the stream tells EventSource (`retry:`), in milliseconds.
    events_retry_ms: int = Field(default=3000, ge=100, le=600_000)
    # A stream is closed after this long; the client reconnects at once and resumes from its
    # last event (spreads long-lived connections over the workers again).
    events_stream_max_seconds: float = Field(default=1800.0, gt=0, le=86_400)
    # How often an idle stream checks that its session still exists (sign-out and an
    # administrator's change end it at once; this catches the command line and expiry).
    events_session_check_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How many recent events each process keeps for Last-Event-ID resumes.
    events_retention: int = Field(default=10_000, ge=10, le=1_000_000)
    # Open streams per user in a process (one more closes the oldest) and in all (503 beyond).
    events_max_streams_per_user: int = Field(default=8, ge=1, le=1000)
    events_max_streams: int = Field(default=10_000, ge=1)
    # How long a user's role and facilitator are kept for the streams' scoping without being
    # read again (an administrator's change forgets them at once through SessionEnded).
    events_scope_cache_seconds: float = Field(default=30.0, ge=0, le=3600)

    catalog_path: Path | None = None
    static_dir: Path | None = None

    log_level: str = "info"
    metrics_enabled: bool = True
    # GET /metrics answers only a scraper that sends `Authorization: Bearer <this>`; unset (the
    # default), it answers 404 to everyone. At least 32 characters (`openssl rand -hex 32`).
    metrics_token: SecretStr | None = Field(default=None, min_length=32)

    @field_validator("database_url")
    @classmethod
    def _database_url_is_set(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("database_url must not be empty")
        return value.strip()

    @field_validator(
        "login_account_address_rate_limit", "login_address_rate_limit", "login_account_rate_limit"
    )
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is no rate limit such as '10/5minutes'") from None
        return value

    @property
    def device_cookie_name(self) -> str:
        """The cookie of the session's device secret, which the page can read and delete."""
        return f"{self.session_cookie_name}_device"

    @cached_property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.async_database_url.startswith("sqlite")
