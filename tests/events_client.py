"""Reading a server-sent-events stream in tests: an app served by uvicorn in the test's own
event loop (httpx's ASGI transport waits for a response's end, which a stream never reaches),
and a reader of the stream's blocks."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.server_process import free_port


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a free loopback port, in this event loop; its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Block:
    """One block of the stream: its fields (`id`, `event`, `data`, `retry`) and comments."""

    fields: dict[str, str] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def event(self) -> str | None:
        return self.fields.get("event")

    @property
    def id(self) -> str | None:
        return self.fields.get("id")

    @property
    def data(self) -> Any:
        return json.loads(self.fields["data"])


class EventReader:
    """The blocks of one open stream, in order. A task of its own reads the lines, so that a
    wait that times out loses nothing."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.opening = Block()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for line in self.response.aiter_lines():
                self._lines.put_nowait(line)
        except httpx.HTTPError:
            pass
        finally:
            self._lines.put_nowait(None)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def block(self, seconds: float = 5.0) -> Block:
        """The next block; TimeoutError when none comes in time; EOFError at the end."""
        found = Block()
        async with asyncio.timeout(seconds):
            while (line := await self._lines.get()) is not None:
                if line == "":
                    if found.fields or found.comments:
                        return found
                    continue
                if line.startswith(":"):
                    found.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                found.fields[name] = value[1:] if value.startswith(" ") else value
        self._lines.put_nowait(None)  # and at every later call
        raise EOFError

    async def event(self, seconds: float = 5.0) -> Block:
        """The next block that is an event (skipping heartbeats and the opening)."""
        async with asyncio.timeout(seconds):
            while True:
                found = await self.block(seconds)
                if found.event is not None:
                    return found

    async def nothing_within(self, seconds: float) -> bool:
        """True when no event arrives within `seconds` (heartbeats do not count)."""
        try:
            await self.event(seconds)
        except TimeoutError:
            return True
        return False

    async def ended(self, seconds: float = 5.0) -> bool:
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await self.block(seconds)
        except EOFError:
            return True
        except TimeoutError:
            return False


@contextlib.asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, last_event_id: str | None = None
) -> AsyncIterator[EventReader]:
    """An open `GET /api/events` of `client`'s session, read past its opening block."""
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    async with client.stream("GET", "/api/events", headers=headers) as response:
        assert response.status_code == 200, (await response.aread()).decode()
        reader = EventReader(response)
        try:
            reader.opening = await reader.block()
            assert "retry" in reader.opening.fields and "id" in reader.opening.fields
            yield reader
        finally:
            await reader.close()
