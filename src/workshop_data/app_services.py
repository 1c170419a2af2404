"""What the app builds once and every request shares, in one typed container: `create_app`
puts an `AppServices` on `app.state.services`; the dependencies of deps.py (and whatever else
needs one, by `services_of(app)`) read it from there, typed, never by an attribute's name."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from workshop_data.auth.service import SessionTouches
from workshop_data.auth.throttle import LoginThrottle
from workshop_data.catalog.service import Catalog
from workshop_data.db.kept_connections import KeptConnections
from workshop_data.events.bus import EventBus
from workshop_data.events.hub import StreamHub
from workshop_data.events.service import PresenceLimiter
from workshop_data.json_input import JsonLimits
from workshop_data.settings import Settings
from workshop_data.step_data.history import HistoryPolicy
from workshop_data.uploads.storage import UploadStore
from workshop_data.users.passwords import PasswordHashing


@dataclass(frozen=True, slots=True)
class AppServices:
    settings: Settings
    # The web app's files (web/dist unless the settings name another directory).
    static_dir: Path
    # The engine (transactions) and the one requests use (autocommit on PostgreSQL).
    engine: AsyncEngine
    autocommit_engine: AsyncEngine
    kept_connections: KeptConnections
    session_touches: SessionTouches
    catalog: Catalog
    json_limits: JsonLimits
    history_policy: HistoryPolicy
    upload_store: UploadStore
    login_throttle: LoginThrottle
    password_hashing: PasswordHashing
    # Writers publish to it after their commit; the metrics and the event stream listen.
    event_bus: EventBus
    # The live streams of this process (GET /api/events) and the presence reports' limit.
    stream_hub: StreamHub
    presence_limiter: PresenceLimiter


def services_of(app: Starlette) -> AppServices:
    services: AppServices = app.state.services
    return services
