"""The bus shared by every worker and machine: a Redis stream (`WORKSHOP_DATA_EVENTS_URL=
redis://…`). Listeners of the `EventBus` protocol hear this process's own events, on the
publisher's thread, as with `LocalBus` (a metric counts each save once); the stream hub hears
everyone's, with the stream entry's id as cursor, the same in every process.

`publish` never waits on the network: it queues the event, and a task of its own appends the
queue to the Redis stream (one pipelined round trip for whatever has queued up), after the
write's commit and outside its path. The stream is trimmed to about `max_length` entries."""

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from workshop_data.events import wire
from workshop_data.events.bus import EventBus, Listener, LocalBus, Unsubscribe
from workshop_data.events.hub import CursoredListener
from workshop_data.events.schemas import Event
from workshop_data.settings import Settings

log = logging.getLogger("workshop_data.events")

OUTGOING_BACKLOG = 100_000
READ_BLOCK_MS = 5000
RECONNECT_SECONDS = 1.0


def stream_key(settings: Settings) -> str:
    """The Redis stream of this deployment: named after its database, so that the processes of
    one database share it and no other's events reach them."""
    if settings.events_channel:
        return settings.events_channel
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]
    return f"workshop_data:events:{digest}"


class RedisBus:
    def __init__(self, url: str, key: str, *, max_length: int = 100_000) -> None:
        self._client: redis.Redis = redis.Redis.from_url(url)
        self._key = key
        self._max_length = max_length
        self._local = LocalBus()
        self._outgoing: deque[bytes] = deque(maxlen=OUTGOING_BACKLOG)
        self._everywhere: tuple[CursoredListener, ...] = ()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._sender: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._start_cursor = "0-0"

    # The EventBus protocol: this process's events.
    def publish(self, event: Event) -> None:
        self._local.publish(event)
        try:
            payload = wire.encode(event)
        except Exception:
            log.exception("an event could not be encoded (%s)", type(event).__name__)
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a writer's thread: hand over to the loop
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._queue, payload)
            return
        self._queue(payload)

    def subscribe(self, listener: Listener) -> Unsubscribe:
        return self._local.subscribe(listener)

    # The stream hub's feed: every process's events.
    @property
    def start_cursor(self) -> str:
        return self._start_cursor

    def subscribe_everywhere(self, listener: CursoredListener) -> Unsubscribe:
        self._everywhere = (*self._everywhere, listener)

        def unsubscribe() -> None:
            self._everywhere = tuple(each for each in self._everywhere if each is not listener)

        return unsubscribe

    async def start_reading(self) -> None:
        """Starts hearing every process's events, from the stream's current end on."""
        if self._reader is not None:
            return
        try:
            last: Any = await self._client.xrevrange(self._key, count=1)
            if last:
                self._start_cursor = last[0][0].decode()
        except (RedisError, OSError) as error:
            log.warning("the events stream's end could not be read: %s", error)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def close(self) -> None:
        for task in (self._sender, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sender = self._reader = None
        await self._client.aclose()

    def _queue(self, payload: bytes) -> None:
        if len(self._outgoing) == self._outgoing.maxlen:
            log.warning("events backlog to Redis full: the oldest is dropped")
        self._outgoing.append(payload)
        if self._sender is None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._sender = self._loop.create_task(self._send())
        assert self._wake is not None
        self._wake.set()

    async def _send(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._outgoing:
                batch = [self._outgoing.popleft() for _ in range(min(500, len(self._outgoing)))]
                try:
                    async with self._client.pipeline(transaction=False) as pipe:
                        for payload in batch:
                            pipe.xadd(
                                self._key,
                                {"e": payload},
                                maxlen=self._max_length,
                                approximate=True,
                            )
                        await pipe.execute()
                except (RedisError, OSError) as error:
                    log.warning("%d events could not be sent to Redis: %s", len(batch), error)
                    await asyncio.sleep(RECONNECT_SECONDS)

    async def _read(self) -> None:
        last = self._start_cursor
        while True:
            try:
                found: Any = await self._client.xread(
                    {self._key: last}, block=READ_BLOCK_MS, count=1000
                )
            except (RedisError, OSError) as error:
                log.warning("reading the events stream failed: %s", error)
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            for _key, entries in found or ():
                for entry_id, values in entries:
                    last = entry_id.decode()
                    try:
                        event = wire.decode(values[b"e"])
                    except (ValueError, KeyError, TypeError):
                        log.warning("an entry of the events stream is not an event: %s", last)
                        continue
                    for listener in self._everywhere:
                        try:
                            listener(last, event)
                        except Exception:
                            log.exception("an event listener failed")


def make_bus(settings: Settings) -> EventBus:
    """The process's bus: Redis when `events_url` names it, else in the process alone."""
    if settings.events_url is None:
        return LocalBus()
    return RedisBus(
        settings.events_url.get_secret_value(),
        stream_key(settings),
        max_length=max(10 * settings.events_retention, 10_000),
    )
