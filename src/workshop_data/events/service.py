"""The live events a browser receives (`GET /api/events`) and the presence it reports."""

import asyncio
import time
from collections.abc import AsyncIterator

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from workshop_data.auth import service as auth_service
from workshop_data.errors import InvalidInput, RateLimited, ServiceBusy
from workshop_data.events import wire
from workshop_data.events.bus import EventBus
from workshop_data.events.hub import CLOSED, Opened, StreamHub, TooManyStreams
from workshop_data.events.schemas import PresenceReported
from workshop_data.timeutil import utc_now
from workshop_data.users.service import User

MAX_PENDING = 100_000
PRESENCE_INTERVAL_SECONDS = 1.0


async def open_stream(
    hub: StreamHub, viewer: User, token_hash: str, last_event_id: str | None
) -> Opened:
    """A new stream for `viewer`'s session; ServiceBusy past the process's limit of streams."""
    await hub.start()
    try:
        return hub.open(viewer, token_hash, last_event_id)
    except TooManyStreams:
        raise ServiceBusy("Too many live connections on this server; try again shortly.") from None


class SessionCheck:
    """Whether the stream's session goes on, read at most every `interval` seconds: how a
    session ended where no event reaches this process (the command line changing a password,
    expiry) still ends the stream. SessionEnded on the bus ends it at once."""

    def __init__(self, engine: AsyncEngine, hashed: str, interval: float) -> None:
        self._engine = engine
        self._hashed = hashed
        self._interval = interval
        self._checked = time.monotonic()

    async def still_live(self) -> bool:
        if time.monotonic() - self._checked < self._interval:
            return True
        self._checked = time.monotonic()
        try:
            async with self._engine.connect() as conn:
                return await auth_service.session_is_live(conn, self._hashed)
        except (SQLAlchemyError, OSError):
            return True  # the database away for a moment ends no stream


async def stream_frames(
    hub: StreamHub,
    opened: Opened,
    *,
    heartbeat_seconds: float,
    max_seconds: float,
    session_check: SessionCheck,
) -> AsyncIterator[bytes]:
    """The stream's bytes: the opening, a resync or what was missed, then each event as it
    comes, a heartbeat comment while none does; until the session ends, a newer stream of the
    user takes this one's place, or `max_seconds` pass (the client reconnects and resumes)."""
    stream = opened.stream
    try:
        yield opened.head
        if opened.resync_reason is not None:
            yield wire.resync(opened.cursor, opened.resync_reason)
        for frame in await hub.replay(stream.viewer_id, opened.missed):
            yield frame
        deadline = time.monotonic() + max_seconds
        while (left := deadline - time.monotonic()) > 0:
            if stream.behind:
                stream.behind = False
                yield wire.resync(hub.head, "overflow")
                continue
            try:
                async with asyncio.timeout(min(heartbeat_seconds, left)):
                    item = await stream.queue.get()
            except TimeoutError:
                if not await session_check.still_live():
                    return
                if deadline - time.monotonic() > 0:
                    yield wire.HEARTBEAT
                continue
            if item is CLOSED:
                return
            assert isinstance(item, bytes)
            yield item
    finally:
        hub.close(stream)


class PresenceLimiter:
    """At most one presence report per user per `interval` seconds, in this process."""

    def __init__(self, interval: float = PRESENCE_INTERVAL_SECONDS, max_users: int = 100_000):
        self._interval = interval
        self._max_users = max_users
        self._last: dict[int, float] = {}

    def take(self, user_id: int) -> bool:
        now = time.monotonic()
        last = self._last.get(user_id)
        if last is not None and now - last < self._interval:
            return False
        if len(self._last) >= self._max_users:
            self._last = {u: t for u, t in self._last.items() if now - t < self._interval}
        self._last[user_id] = now
        return True


def report_presence(bus: EventBus, limiter: PresenceLimiter, user: User, pending: int) -> None:
    """Publishes how many changes `user`'s browser holds unsent (0..MAX_PENDING), at most once
    a second per user (RateLimited otherwise)."""
    if isinstance(pending, bool) or not 0 <= pending <= MAX_PENDING:
        raise InvalidInput(f"pending must be a whole number from 0 to {MAX_PENDING}.")
    if not limiter.take(user.id):
        raise RateLimited("At most one presence report a second.", retry_after_seconds=1)
    bus.publish(PresenceReported(user_id=user.id, pending=pending, seen_at=utc_now()))
