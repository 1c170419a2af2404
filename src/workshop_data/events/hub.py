"""The streams of one process: every event the process hears (from its own writers, or from
every process through a shared bus) is numbered, kept in a bounded ring for resumes, and handed
to the open streams that may see it.

Scoping costs no query per viewer: an event names its owner; the hub looks up, in memory
(`Directory`), the owner's facilitator and hands the event to the owner's streams, that
facilitator's streams and the administrators' streams, each a dictionary lookup. A user's
standing is read from the database once and kept until an administrator's change is heard
(`SessionEnded` for all of that user's sessions, which the change publishes on the bus, in
every process) or `events_scope_cache_seconds` pass."""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from workshop_data.events import wire
from workshop_data.events.bus import EventBus, Unsubscribe
from workshop_data.events.directory import Directory
from workshop_data.events.schemas import Event, PresenceReported, SessionEnded
from workshop_data.users.service import User

log = logging.getLogger("workshop_data.events")

# Frames a stream may have waiting before it is told to resync instead.
STREAM_BACKLOG = 1000
# Events heard but not yet handed out, before the hub drops them and every stream resyncs.
INCOMING_BACKLOG = 100_000

CursoredListener = Callable[[str, Event], None]


@runtime_checkable
class SharedFeed(Protocol):
    """A bus shared between processes: every process's events, each with the bus's own cursor
    (the same in every process), and the cursor of the last event before this process began
    listening."""

    def subscribe_everywhere(self, listener: CursoredListener) -> Unsubscribe: ...

    async def start_reading(self) -> None: ...

    @property
    def start_cursor(self) -> str: ...


def parse_cursor(cursor: str) -> tuple[int, int] | None:
    head, sep, tail = cursor.partition("-")
    if not sep or not head.isdigit() or not tail.isdigit() or len(cursor) > 40:
        return None
    return int(head), int(tail)


class _Closed:
    pass


CLOSED = _Closed()
Resync = str  # a resync's reason, waiting in a stream's queue


@dataclass(eq=False)
class Stream:
    """One open stream: what waits to be sent to it, in order."""

    viewer_id: int
    token_hash: str
    opened_at: float = field(default_factory=time.monotonic)
    queue: "asyncio.Queue[bytes | _Closed]" = field(
        default_factory=lambda: asyncio.Queue(STREAM_BACKLOG)
    )
    behind: bool = False  # lost frames to a full queue: send a resync next

    def put(self, frame: bytes) -> None:
        if self.behind:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.behind = True
            self._drain()

    def close(self) -> None:
        self._drain()
        self.queue.put_nowait(CLOSED)

    def _drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()


@dataclass(frozen=True)
class Opened:
    stream: Stream
    cursor: str
    # The first bytes: the cursor to resume from, then a resync or the events missed.
    head: bytes
    missed: list[tuple[str, Event]]
    resync_reason: str | None


class TooManyStreams(Exception):
    pass


class StreamHub:
    def __init__(
        self,
        bus: EventBus,
        directory: Directory,
        *,
        retention: int,
        max_streams: int,
        max_streams_per_user: int,
        retry_ms: int,
    ) -> None:
        self._bus = bus
        self.directory = directory
        self._max_streams = max_streams
        self._max_per_user = max_streams_per_user
        self._retry_ms = retry_ms
        self._ring: deque[tuple[str, tuple[int, int], Event]] = deque()
        self._retention = retention
        self._streams: dict[int, list[Stream]] = {}
        self._admins: set[int] = set()
        self._open = 0
        self._incoming: asyncio.Queue[tuple[str | None, Event]] = asyncio.Queue(INCOMING_BACKLOG)
        self._sequence = 0
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Unsubscribe | None = None
        # Without a shared bus, cursors of this process alone: its start time, then a count.
        self._epoch = time.time_ns() // 1_000_000
        self._floor = f"{self._epoch}-0"
        self._floor_key = (self._epoch, 0)

    @property
    def open_streams(self) -> int:
        return self._open

    async def start(self) -> None:
        """Starts listening (at the first stream; idempotent)."""
        if self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._hand_out())
        if isinstance(self._bus, SharedFeed):
            await self._bus.start_reading()
            self._floor = self._bus.start_cursor
            self._floor_key = parse_cursor(self._floor) or (0, 0)
            self._unsubscribe = self._bus.subscribe_everywhere(self._heard)
        else:
            self._unsubscribe = self._bus.subscribe(lambda event: self._heard(None, event))

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for streams in list(self._streams.values()):
            for stream in streams:
                stream.close()

    def _heard(self, cursor: str | None, event: Event) -> None:
        # On the publisher's thread and in its path: hand on, nothing more.
        try:
            self._incoming.put_nowait((cursor, event))
        except asyncio.QueueFull:
            log.warning("event backlog full: every stream resyncs")
            self._everyone_resyncs()

    def _everyone_resyncs(self) -> None:
        for streams in self._streams.values():
            for stream in streams:
                stream.behind = True
                stream._drain()

    def _next_cursor(self, given: str | None) -> tuple[str, tuple[int, int]]:
        if given is not None:
            key = parse_cursor(given)
            if key is not None:
                return given, key
        self._sequence += 1
        key = (self._epoch, self._sequence)
        return f"{key[0]}-{key[1]}", key

    async def _hand_out(self) -> None:
        while True:
            cursor, event = await self._incoming.get()
            try:
                await self._deliver(cursor, event)
            except Exception:
                log.exception("an event could not be handed out (%s)", type(event).__name__)
                self._everyone_resyncs()

    async def _deliver(self, given: str | None, event: Event) -> None:
        if isinstance(event, SessionEnded):
            if event.token_hash is None:
                self.directory.forget(event.user_id)
            self._end_sessions(event)
            return
        others = await self._others(event)
        # From here on no await: the ring and the streams change together.
        cursor, key = self._next_cursor(given)
        self._remember(cursor, key, event)
        if not isinstance(event, PresenceReported):
            owner_frame = wire.event_frame(cursor, event, to_owner=True)
            for stream in self._streams.get(event.user_id, ()):
                if owner_frame is not None:
                    stream.put(owner_frame)
        if not others:
            return
        other_frame = wire.event_frame(cursor, event, to_owner=False)
        if other_frame is None:
            return
        for viewer in others:
            for stream in self._streams.get(viewer, ()):
                stream.put(other_frame)

    async def _others(self, event: Event) -> set[int]:
        """Who besides the owner may see `event` among this process's viewers: the owner's
        facilitator while they are one, and the administrators."""
        others: set[int] = set()
        owner = await self.directory.standing(event.user_id)
        facilitator_id = owner.facilitator_id if owner is not None else None
        if facilitator_id is not None and facilitator_id in self._streams:
            standing = await self.directory.standing(facilitator_id)
            if standing is not None and standing.role == "facilitator":
                others.add(facilitator_id)
        for admin in self._admins:
            standing = await self.directory.standing(admin)
            if standing is not None and standing.role == "admin":
                others.add(admin)
        others.discard(event.user_id)
        return others

    async def replay(self, viewer_id: int, missed: list[tuple[str, Event]]) -> list[bytes]:
        """The frames of kept events `viewer_id` may see (the rule of live delivery, with
        today's standings)."""
        frames = []
        for cursor, event in missed:
            if event.user_id == viewer_id:
                if isinstance(event, PresenceReported):
                    continue
                found = wire.event_frame(cursor, event, to_owner=True)
            elif viewer_id in await self._others(event):
                found = wire.event_frame(cursor, event, to_owner=False)
            else:
                continue
            if found is not None:
                frames.append(found)
        return frames

    def _remember(self, cursor: str, key: tuple[int, int], event: Event) -> None:
        self._ring.append((cursor, key, event))
        while len(self._ring) > self._retention:
            floor, self._floor_key, _ = self._ring.popleft()
            self._floor = floor

    def _end_sessions(self, event: SessionEnded) -> None:
        for stream in list(self._streams.get(event.user_id, ())):
            if event.token_hash is None or stream.token_hash == event.token_hash:
                self._remove(stream)
                stream.close()

    @property
    def head(self) -> str:
        return self._ring[-1][0] if self._ring else self._floor

    def _missed_since(self, cursor: str) -> list[tuple[str, Event]] | None:
        """The events after `cursor`, or None when the ring cannot say (not a cursor this
        process has kept: too old, from before it started, or made up)."""
        if cursor == self._floor:
            return [(c, e) for c, _k, e in self._ring]
        key = parse_cursor(cursor)
        if key is None or key < self._floor_key:
            return None
        for index in range(len(self._ring) - 1, -1, -1):
            if self._ring[index][0] == cursor:
                return [(c, e) for c, _k, e in list(self._ring)[index + 1 :]]
        return None

    def open(self, viewer: User, token_hash: str, last_event_id: str | None) -> Opened:
        """Registers a stream for `viewer` (closing their oldest beyond the per-user limit) and
        says what to send first. TooManyStreams past the process's limit."""
        if self._open >= self._max_streams:
            raise TooManyStreams
        self.directory.remember(viewer)
        own = self._streams.setdefault(viewer.id, [])
        while len(own) >= self._max_per_user:
            oldest = own[0]
            self._remove(oldest)
            oldest.close()
        stream = Stream(viewer.id, token_hash)
        own.append(stream)
        self._open += 1
        if viewer.is_admin:
            self._admins.add(viewer.id)
        head = self.head
        missed: list[tuple[str, Event]] = []
        reason = None
        if last_event_id is not None:
            found = self._missed_since(last_event_id)
            if found is None:
                reason = (
                    "beyond_retention"
                    if parse_cursor(last_event_id) is not None
                    else "unknown_cursor"
                )
            else:
                missed = found
        return Opened(stream, head, wire.opening(self._retry_ms, head), missed, reason)

    def close(self, stream: Stream) -> None:
        self._remove(stream)

    def _remove(self, stream: Stream) -> None:
        own = self._streams.get(stream.viewer_id)
        if own is None or stream not in own:
            return
        own.remove(stream)
        self._open -= 1
        if not own:
            del self._streams[stream.viewer_id]
            self._admins.discard(stream.viewer_id)

    def streams_of(self, user_id: int) -> Iterator[Stream]:
        yield from self._streams.get(user_id, ())
