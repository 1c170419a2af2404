"""A sign-in flood against one worker: 40 parallel sign-ins with made-up usernames (each a new
throttle bucket, each an argon2 verification of 64 MiB), in waves, while a participant keeps
saving. Reports the worker's peak resident memory and the save latency during the flood,
against the bounds stated in docs/operations.md. Run: `.venv/bin/python -m bench.login_flood`
(`BENCH_WAVES`, `BENCH_PARALLEL` change the flood; `BENCH_HASH_CONCURRENCY` a comma list)."""

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.server_process import ServerProcess

from bench.common import seed_users, session_cookies

# The bounds the service promises for this flood (docs/operations.md).
RSS_BOUND_MIB = 400
SAVE_BOUND_S = 2.0


@dataclass
class FloodResult:
    hash_concurrency: int
    parallel: int
    waves: int
    peak_rss_mib: float
    rss_before_mib: float
    logins: dict[int, int]
    flood_seconds: float
    saves: int
    save_p50_ms: float
    save_max_ms: float

    def within_bounds(self) -> bool:
        return self.peak_rss_mib < RSS_BOUND_MIB and self.save_max_ms / 1000 < SAVE_BOUND_S


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


async def flood(
    server: ServerProcess, token: str, *, parallel: int = 40, waves: int = 3
) -> FloodResult:
    assert server.process is not None
    pid = server.process.pid
    rss_before = _status_kib(pid, "VmRSS") / 1024
    latencies: list[float] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=parallel + 10, max_keepalive_connections=parallel + 10)

    async def keep_saving(client: httpx.AsyncClient) -> None:
        counter = 0
        while not stop.is_set():
            counter += 1
            started = time.perf_counter()
            response = await client.post(
                "/api/workshop-data/step",
                json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"n": counter}},
            )
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.05)

    statuses: dict[int, int] = {}
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client,
        httpx.AsyncClient(base_url=server.url, timeout=60) as saver,
    ):
        saver.cookies.update(session_cookies(token))
        saving = asyncio.create_task(keep_saving(saver))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        for _ in range(waves):
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/api/auth/login",
                        json={"username": f"nobody-{uuid.uuid4().hex}", "password": "guess"},
                    )
                    for _ in range(parallel)
                )
            )
            for answer in answers:
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        flood_seconds = time.perf_counter() - started
        await asyncio.sleep(0.3)
        stop.set()
        await saving
    return FloodResult(
        hash_concurrency=int(server.env.get("WORKSHOP_DATA_PASSWORD_HASH_CONCURRENCY", "2")),
        parallel=parallel,
        waves=waves,
        peak_rss_mib=round(_status_kib(pid, "VmHWM") / 1024, 1),
        rss_before_mib=round(rss_before, 1),
        logins=statuses,
        flood_seconds=round(flood_seconds, 2),
        saves=len(latencies),
        save_p50_ms=round(statistics.median(latencies) * 1000, 1),
        save_max_ms=round(max(latencies) * 1000, 1),
    )


def flood_server(database_url: str, hash_concurrency: int) -> ServerProcess:
    return ServerProcess(
        database_url,
        env={
            "WORKSHOP_DATA_PASSWORD_HASH_CONCURRENCY": str(hash_concurrency),
            # One address floods here: lift its limit so every sign-in reaches the hasher.
            "WORKSHOP_DATA_LOGIN_ADDRESS_RATE_LIMIT": "100000/minute",
        },
    )


def main() -> None:
    waves = int(os.environ.get("BENCH_WAVES", "3"))
    parallel = int(os.environ.get("BENCH_PARALLEL", "40"))
    settings = os.environ.get("BENCH_HASH_CONCURRENCY", "2,1,40")
    print(
        f"bounds: peak RSS < {RSS_BOUND_MIB} MiB, every save < {SAVE_BOUND_S} s "
        f"({waves} waves of {parallel} parallel sign-ins with unknown usernames, SQLite)"
    )
    print(
        "| hash concurrency | RSS before | peak RSS | sign-ins | flood s | saves | "
        "save p50 ms | save max ms | within bounds |"
    )
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    for concurrency in (int(c) for c in settings.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'flood.db'}"
            (token,) = asyncio.run(seed_users(url, 1))
            with flood_server(url, concurrency) as server:
                result = asyncio.run(flood(server, token, parallel=parallel, waves=waves))
        print(
            f"| {concurrency} | {result.rss_before_mib} | {result.peak_rss_mib} | "
            f"{result.logins} | {result.flood_seconds} | {result.saves} | "
            f"{result.save_p50_ms} | {result.save_max_ms} | "
            f"{'yes' if result.within_bounds() else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
