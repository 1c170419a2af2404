"""Live events (GET /api/events): save → event latency at a subscriber, save throughput with
streams open, and resident memory per 1,000 idle streams.

- Latency: 200 simulated participants each save once a second (POST /api/workshop-data/step,
  over HTTP from this process); facilitator streams read the events; each event's latency is
  from the moment its save was sent to the moment its block arrived. With 1 stream (a
  facilitator of all 200) and with 50 (each facilitating 4 of them), on SQLite (one worker,
  the in-process bus) and on PostgreSQL (2 workers, the Redis bus), in interleaved rounds; the
  median of the rounds' p50/p95/p99.
- Throughput: wrk saving as the 200 participants at full speed, with 0 and with 50 facilitator
  streams open (and read), interleaved in each round on the same server.
- Memory: the resident memory of a one-worker server before and after opening 1,000 idle
  streams.

Loopback only; every run is bounded by BENCH_EVENTS_SECONDS (default 10) per measurement and
BENCH_ROUNDS (default 3) rounds. `python -m bench.events_bench` runs it alone."""

import asyncio
import contextlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import update
from tests.server_process import ServerProcess

from bench.common import (
    RESULTS,
    LoadResult,
    cookie_header,
    median,
    median_load,
    process_tree,
    rss_mb,
    run_wrk,
    scratch_postgres,
    seed_users,
    session_cookies,
)
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import users
from workshop_data.settings import Settings

SECONDS = int(os.environ.get("BENCH_EVENTS_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PARTICIPANTS = 200
FACILITATORS = 50
STREAM_COUNTS = (1, 50)
IDLE_STREAMS = 1000
REDIS_URL = os.environ.get("WORKSHOP_DATA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SCRIPT = Path(__file__).with_name("wrk_save.lua")


class RawHttp:
    """One keep-alive HTTP/1.1 connection spoken by hand: httpx's pool spends milliseconds of
    this process's CPU per request at 200 connections, which would be measured as latency."""

    def __init__(self, url: str, cookie: str, *, header: str = "Cookie") -> None:
        host, port = url.removeprefix("http://").split(":")
        self._address = (host, int(port))
        self._credential = f"{header}: {cookie}"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(*self._address)
        return self._reader, self._writer

    def _head(self, method: str, path: str, extra: str = "") -> bytes:
        host = f"{self._address[0]}:{self._address[1]}"
        return (
            f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{self._credential}\r\n{extra}\r\n"
        ).encode()

    async def _status_and_headers(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        status = int((await reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    async def post_json(self, path: str, body: bytes, method: str = "POST") -> tuple[int, bytes]:
        reader, writer = await self._connect()
        writer.write(
            self._head(
                method,
                path,
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n",
            )
            + body
        )
        status, headers = await self._status_and_headers(reader)
        return status, await reader.readexactly(int(headers.get("content-length", "0")))

    async def events(self, path: str = "/api/events") -> AsyncIterator[bytes]:
        """The `data:` lines of a server-sent-events stream, as they arrive."""
        reader, writer = await self._connect()
        writer.write(self._head("GET", path, "Accept: text/event-stream\r\n"))
        status, _ = await self._status_and_headers(reader)
        assert status == 200, status
        pending = b""
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                return
            pending += (await reader.readexactly(size + 2))[:-2]
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.startswith(b"data:"):
                    yield line[5:].strip()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class Seeded:
    def __init__(self, database_url: str, tokens: list[str]) -> None:
        self.database_url = database_url
        self.participants = tokens[:PARTICIPANTS]
        self.facilitators = tokens[PARTICIPANTS:]


async def _seed(database_url: str) -> Seeded:
    tokens = await seed_users(database_url, PARTICIPANTS + FACILITATORS)
    engine = create_engine(Settings(database_url=database_url))
    async with engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.username.in_([f"bench-{PARTICIPANTS + i}" for i in range(FACILITATORS)]))
            .values(role="facilitator")
        )
    await engine.dispose()
    return Seeded(database_url, tokens)


async def _assign(database_url: str, streams: int) -> None:
    """Participant i to facilitator i mod `streams` (bench-200 …): with one stream, all 200
    to one facilitator; with 50, four each. Before the server starts (it keeps standings)."""
    engine = create_engine(Settings(database_url=database_url))
    async with engine.begin() as conn:
        ids = {
            row.username: row.id
            for row in await conn.execute(users.select().where(users.c.username.like("bench-%")))
        }
        for i in range(PARTICIPANTS):
            await conn.execute(
                update(users)
                .where(users.c.id == ids[f"bench-{i}"])
                .values(facilitator_id=ids[f"bench-{PARTICIPANTS + i % streams}"])
            )
    await engine.dispose()


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _read_stream(
    connection: RawHttp, sent: dict[tuple[int, int], float], latencies: list[float]
) -> None:
    async for line in connection.events():
        arrived = time.perf_counter()
        data = json.loads(line)
        started = sent.get((data["userId"], data.get("version", -1)))
        if started is not None:
            latencies.append((arrived - started) * 1000)


@contextlib.asynccontextmanager
async def _streams(
    url: str, tokens: list[str], sent: dict[tuple[int, int], float], latencies: list[float]
) -> AsyncIterator[None]:
    connections = [RawHttp(url, cookie_header(t)) for t in tokens]
    tasks = [asyncio.create_task(_read_stream(c, sent, latencies)) for c in connections]
    await asyncio.sleep(1.0)  # every stream open
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for connection in connections:
            connection.close()


class Participant:
    """One simulated participant: their connection and the version they saved last."""

    def __init__(self, url: str, token: str, user_id: int) -> None:
        self.connection = RawHttp(url, cookie_header(token))
        self.user_id = user_id
        self.version = 0

    async def save(self) -> None:
        body = json.dumps({"workshopType": "ast", "stepId": "2-1", "data": {"n": self.version + 1}})
        status, answer = await self.connection.post_json("/api/workshop-data/step", body.encode())
        if status == 200:
            self.version = json.loads(answer)["data"]["version"]

    async def once_a_second(
        self, sent: dict[tuple[int, int], float], saves: list[float], start: float, until: float
    ) -> None:
        next_at = start
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        while time.perf_counter() < until:
            sent_at = time.perf_counter()
            sent[(self.user_id, self.version + 1)] = sent_at
            await self.save()
            saves.append((time.perf_counter() - sent_at) * 1000)
            next_at += 1.0
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        self.connection.close()


async def _user_ids(database_url: str) -> dict[str, int]:
    engine = create_engine(Settings(database_url=database_url))
    async with engine.connect() as conn:
        rows = await conn.execute(users.select().where(users.c.username.like("bench-%")))
        found = {row.username: row.id for row in rows}
    await engine.dispose()
    return found


async def _latency_run(url: str, seeded: Seeded, streams: int) -> dict[str, float]:
    ids = await _user_ids(seeded.database_url)
    sent: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    saves: list[float] = []
    async with _streams(url, seeded.facilitators[:streams], sent, latencies):
        participants = [
            Participant(url, token, ids[f"bench-{i}"])
            for i, token in enumerate(seeded.participants)
        ]
        # Unmeasured: every connection open and every session seen once.
        for _ in range(2):
            await asyncio.gather(*(p.save() for p in participants))
        # Each participant's second spread evenly over the 200.
        start = time.perf_counter() + 0.5
        await asyncio.gather(
            *(
                p.once_a_second(sent, saves, start + i / PARTICIPANTS, start + SECONDS)
                for i, p in enumerate(participants)
            )
        )
        await asyncio.sleep(0.5)  # the last events
    return {
        "save_p50_ms": round(_percentile(saves, 0.50), 2),
        "save_p99_ms": round(_percentile(saves, 0.99), 2),
        "events": len(latencies),
        "p50_ms": round(_percentile(latencies, 0.50), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "p99_ms": round(_percentile(latencies, 0.99), 2),
    }


def _server(database_url: str, workers: int, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(
        database_url,
        workers=workers,
        env={"WORKSHOP_DATA_EVENTS_MAX_STREAMS_PER_USER": "1000", **env},
    )


async def _throughput(url: str, seeded: Seeded, streams: int, tokens_file: Path) -> LoadResult:
    sent: dict[tuple[int, int], float] = {}
    received: list[float] = []
    if streams == 0:
        return await asyncio.to_thread(
            run_wrk, url, "/api/workshop-data/step", 32, SECONDS, SCRIPT, [str(tokens_file), "0"]
        )
    async with _streams(url, seeded.facilitators[:streams], sent, received):
        return await asyncio.to_thread(
            run_wrk, url, "/api/workshop-data/step", 32, SECONDS, SCRIPT, [str(tokens_file), "0"]
        )


async def _idle_memory(url: str, server: ServerProcess, seeded: Seeded) -> dict[str, float]:
    assert server.process is not None
    worker = process_tree(server.process.pid)[-1]
    sent: dict[tuple[int, int], float] = {}
    latencies: list[float] = []
    tokens = [seeded.participants[i % PARTICIPANTS] for i in range(IDLE_STREAMS)]
    async with _streams(url, tokens[:10], sent, latencies):
        pass  # warm-up: the code paths of a stream loaded
    await asyncio.sleep(0.5)
    before = rss_mb(worker)
    clients: list[httpx.AsyncClient] = []
    limits = httpx.Limits(max_connections=IDLE_STREAMS + 10)
    client = httpx.AsyncClient(base_url=url, limits=limits, timeout=60)
    clients.append(client)
    opened: list[Any] = []
    async with contextlib.AsyncExitStack() as stack:
        for token in tokens:
            response = await stack.enter_async_context(
                client.stream("GET", "/api/events", cookies=session_cookies(token))
            )
            assert response.status_code == 200
            opened.append(response)
        await asyncio.sleep(2.0)
        after = rss_mb(worker)
    await client.aclose()
    return {
        "rss_before_mb": round(before, 1),
        "rss_with_1000_streams_mb": round(after, 1),
        "mb_per_1000_streams": round(after - before, 1),
    }


async def _run(sqlite_url: str, postgres_url: str) -> dict[str, Any]:
    seeded = {"sqlite": await _seed(sqlite_url), "postgresql": await _seed(postgres_url)}
    channel = uuid.uuid4().hex
    setups = {
        "sqlite": (sqlite_url, 1, {}),
        "postgresql": (
            postgres_url,
            2,
            {"WORKSHOP_DATA_EVENTS_URL": REDIS_URL, "WORKSHOP_DATA_EVENTS_CHANNEL": channel},
        ),
    }
    latency: dict[str, list[dict[str, float]]] = {}
    throughput: dict[str, list[LoadResult]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(ROUNDS):
            order = list(setups.items())
            if round_number % 2:
                order.reverse()
            for name, (database_url, workers, env) in order:
                tokens_file = Path(scratch) / f"{name}.tokens"
                tokens_file.write_text(
                    "".join(f"{cookie_header(t)}\n" for t in seeded[name].participants)
                )
                for streams in STREAM_COUNTS if round_number % 2 == 0 else STREAM_COUNTS[::-1]:
                    await _assign(database_url, streams)
                    with _server(database_url, workers, env) as server:
                        key = f"{name} workers={workers} streams={streams}"
                        result = await _latency_run(server.url, seeded[name], streams)
                        latency.setdefault(key, []).append(result)
                        print(f"  round {round_number + 1}: {key}: {result}", flush=True)
                await _assign(database_url, FACILITATORS)
                with _server(database_url, workers, env) as server:
                    for streams in (0, 50) if round_number % 2 == 0 else (50, 0):
                        key = f"{name} workers={workers} open streams={streams}"
                        load = await _throughput(server.url, seeded[name], streams, tokens_file)
                        throughput.setdefault(key, []).append(load)
                        print(f"  round {round_number + 1}: {key}: {load.rate}/s", flush=True)
        with _server(sqlite_url, 1, {}) as server:
            memory = await _idle_memory(server.url, server, seeded["sqlite"])
    summary_latency = {
        key: {
            figure: round(median([r[figure] for r in results]), 2)
            for figure in ("p50_ms", "p95_ms", "p99_ms", "events", "save_p50_ms", "save_p99_ms")
        }
        for key, results in latency.items()
    }
    summary_throughput = {key: median_load(values) for key, values in throughput.items()}
    ratios = {
        name: round(
            summary_throughput[f"{name} workers={w} open streams=50"].rate
            / summary_throughput[f"{name} workers={w} open streams=0"].rate,
            3,
        )
        for name, (_u, w, _e) in setups.items()
    }
    return {
        "latency": summary_latency,
        "throughput": {k: v.rate for k, v in summary_throughput.items()},
        "throughput_ratio_50_to_0": ratios,
        "idle_memory": memory,
        "rounds": ROUNDS,
        "seconds": SECONDS,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch, scratch_postgres() as postgres_url:
        sqlite_url = f"sqlite:///{scratch}/events.db"
        results = uvloop.run(_run(sqlite_url, postgres_url))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "events.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
