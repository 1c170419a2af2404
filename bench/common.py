"""Shared set-up for the benchmarks: scratch databases, seeded users, load tools."""

import asyncio
import os
import re
import resource
import secrets
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
from argon2 import PasswordHasher
from sqlalchemy import insert

from workshop_data.auth.service import token_hash
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.tables import sessions, users
from workshop_data.settings import Settings
from workshop_data.timeutil import utc_now

POSTGRES_URL = os.environ.get(
    "WORKSHOP_DATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
RESULTS = Path(__file__).parent / "results"
# A checkout of an earlier version of the service (its root: `src/` and `tests/` inside, e.g.
# `git archive <commit> | tar -x -C <directory>`) to run as one more contestant in the same
# rounds: before and after a change.
BEFORE = os.environ.get("BENCH_BEFORE")


def before_env() -> dict[str, str]:
    """The environment that makes `workshop-data serve` the earlier version's (BEFORE)."""
    assert BEFORE, "BENCH_BEFORE is not set"
    root = Path(BEFORE)
    return {"PYTHONPATH": f"{root / 'src'}:{root}"}


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(
            f"{tool} is not installed (Debian package: {tool}); it drives this benchmark"
        )
    return path


@contextmanager
def scratch_postgres() -> Iterator[str]:
    name = f"wd_bench_{uuid.uuid4().hex[:10]}"

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def cookie_header(token: str) -> str:
    """The Cookie header of a session `seed_users` made: its token is its device secret too."""
    return f"wd_session={token}; wd_session_device={token}"


def session_cookies(token: str) -> dict[str, str]:
    """The cookies of a session `seed_users` made, for an httpx client."""
    return {"wd_session": token, "wd_session_device": token}


async def seed_users(database_url: str, count: int, tokens: list[str] | None = None) -> list[str]:
    """Migrate, create `count` participants with a live session each (the given `tokens`, or
    new ones; each token is its session's device secret too, see `cookie_header`); return the
    tokens."""
    engine = create_engine(Settings(database_url=database_url))
    await upgrade_to_head(engine)
    now = utc_now()
    # One hash of a password nobody knows: the benchmarks use seeded sessions, not logins.
    password_hash = PasswordHasher().hash(secrets.token_urlsafe(16))
    tokens = tokens or [secrets.token_urlsafe(32) for _ in range(count)]
    async with engine.begin() as conn:
        ids = (
            (
                await conn.execute(
                    insert(users).returning(users.c.id),
                    [
                        {
                            "username": f"bench-{i}",
                            "name": f"Bench {i}",
                            "password_hash": password_hash,
                            "role": "participant",
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(count)
                    ],
                )
            )
            .scalars()
            .all()
        )
        await conn.execute(
            insert(sessions),
            [
                {
                    "token_hash": token_hash(token),
                    "device_hash": token_hash(token),
                    "user_id": user_id,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                    "last_seen_at": now,
                }
                for token, user_id in zip(tokens, ids, strict=True)
            ],
        )
    await engine.dispose()
    return tokens


@dataclass
class LoadResult:
    rate: float  # completed requests (or transactions) per second
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(
    url: str,
    path: str,
    connections: int,
    seconds: int,
    script: Path | None = None,
    script_args: list[str] | None = None,
) -> LoadResult:
    command = [
        require("wrk"),
        "-t",
        str(min(2, connections)),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    command.append(url + path)
    if script_args:
        command += ["--", *script_args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*", output)
    if socket_errors:
        counts = [int(n) for n in re.findall(r"\d+", socket_errors.group(0))]
        errors_total = sum(counts)
    else:
        errors_total = 0
    return LoadResult(
        rate=rate,
        p50_ms=_ms(p50.group(1)) if p50 else None,
        p99_ms=_ms(p99.group(1)) if p99 else None,
        errors=(int(errors.group(1)) if errors else 0) + errors_total,
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def median_load(values: list[LoadResult]) -> LoadResult:
    """The median of each figure over rounds of the same run; errors are added up."""
    p99s = [v.p99_ms for v in values if v.p99_ms is not None]
    p50s = [v.p50_ms for v in values if v.p50_ms is not None]
    return LoadResult(
        rate=round(median([v.rate for v in values]), 1),
        p50_ms=round(median(p50s), 2) if p50s else None,
        p99_ms=round(median(p99s), 2) if p99s else None,
        errors=sum(v.errors for v in values),
    )


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree(pid: int) -> list[int]:
    found = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            found += process_tree(int(child))
    return found


@dataclass
class CpuPerRequest:
    """CPU time per completed request, in microseconds, of each part of the machine."""

    server_us: float
    database_us: float
    load_us: float  # the load generator (wrk)

    @property
    def total_us(self) -> float:
        return self.server_us + self.database_us + self.load_us


def median_cpu(values: list[CpuPerRequest]) -> CpuPerRequest:
    return CpuPerRequest(
        server_us=round(median([v.server_us for v in values])),
        database_us=round(median([v.database_us for v in values])),
        load_us=round(median([v.load_us for v in values])),
    )


def _cpu_ticks(pids: set[int] | None, name: str | None = None) -> dict[int, int]:
    """utime + stime of each process (of `pids`, or named `name`), in clock ticks."""
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (pids is not None and int(entry.name) not in pids):
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        if name is not None and stat[stat.index("(") + 1 : stat.rindex(")")] != name:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks[int(entry.name)] = int(fields[11]) + int(fields[12])
    return ticks


def _ticks_since(before: dict[int, int], after: dict[int, int]) -> int:
    # A process that ended meanwhile (an idle database connection closed) takes its last
    # ticks with it: a small undercount, never a negative one.
    return sum(used - before.get(pid, 0) for pid, used in after.items())


def load_with_cpu(
    server_pid: int, load: Callable[[], LoadResult]
) -> tuple[LoadResult, CpuPerRequest]:
    """Run `load` (a wrk run, a child of this process) and measure, per completed request, the
    CPU time of the server's processes, of every PostgreSQL process and of the load
    generator."""
    server = set(process_tree(server_pid))
    hz = os.sysconf("SC_CLK_TCK")
    before = (
        _cpu_ticks(server),
        _cpu_ticks(None, "postgres"),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    started = time.monotonic()
    result = load()
    elapsed = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    requests = max(result.rate * elapsed, 1.0)
    load_seconds = (children.ru_utime + children.ru_stime) - (
        before[2].ru_utime + before[2].ru_stime
    )
    return result, CpuPerRequest(
        server_us=_ticks_since(before[0], _cpu_ticks(server)) / hz / requests * 1e6,
        database_us=_ticks_since(before[1], _cpu_ticks(None, "postgres")) / hz / requests * 1e6,
        load_us=load_seconds / requests * 1e6,
    )
