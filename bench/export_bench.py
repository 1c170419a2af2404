"""Export of every user (`workshop-data export --all`): time, and the memory of the export
process, for a user base and one ten times larger. Memory should stay flat: users are read in
keyset-paginated batches and each export is written out as soon as it is built.

Each run seeds a fresh SQLite database (bulk inserts, in a process of its own: users x 20
steps, progress in both workshops, two assessments, participation), then runs the real CLI in
a subprocess. That process resets its peak RSS once started up (Linux `clear_refs`) and
reports the peak (VmHWM) after the export, so the table shows what exporting itself takes.

    .venv/bin/python -m bench.export_bench [USERS ...]     (default: 1000 10000)
"""

import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import insert

from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.db.tables import (
    assessments,
    navigation_progress,
    users,
    workshop_participation,
    workshop_step_data,
)
from workshop_data.settings import Settings
from workshop_data.timeutil import utc_now

CATALOG = load_catalog()
STEPS = [("ast", s.step_id) for s in CATALOG.steps_of("ast")[:10]] + [
    ("ia", s.step_id) for s in CATALOG.steps_of("ia")[:10]
]
STEPS_PER_USER = len(STEPS)
CHUNK = 500  # users per insert round
TEXT = "What I bring to my team, and what I want to grow into this quarter. " * 4


@dataclass
class Result:
    users: int
    step_rows: int
    seed_seconds: float
    process_seconds: float
    export_seconds: float
    output_bytes: int
    started_rss_kib: int
    peak_rss_kib: int


def _rows(first_id: int, count: int, password_hash: str) -> dict[str, list[dict[str, Any]]]:
    now = utc_now()
    ids = range(first_id, first_id + count)
    return {
        "users": [
            {
                "id": i,
                "username": f"user-{i:06d}",
                "email": f"user-{i}@example.org",
                "name": f"User {i}",
                "password_hash": password_hash,
                "role": "participant",
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
        ],
        "steps": [
            {
                "user_id": i,
                "workshop_type": workshop,
                "step_id": step_id,
                "data": {"reflection": f"{TEXT}({i}/{step_id})", "choices": [1, 2, 3], "n": i},
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
            for workshop, step_id in STEPS
        ],
        "progress": [
            {
                "user_id": i,
                "workshop_type": workshop,
                "current_step_id": steps[-1],
                "completed_steps": steps,
                "unlocked_steps": steps,
                "video_progress": {"intro": 100, "deep-dive": 42},
                "last_visited_at": now,
                "version": 3,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
            for workshop, steps in (
                ("ast", [s for w, s in STEPS if w == "ast"]),
                ("ia", [s for w, s in STEPS if w == "ia"]),
            )
        ],
        "assessments": [
            {
                "user_id": i,
                "assessment_type": kind,
                "results": results,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids
            for kind, results in (
                ("starCard", {"thinking": 25, "acting": 25, "feeling": 30, "planning": 20}),
                ("cantrilLadder", {"wellBeingLevel": 6, "futureWellBeingLevel": 8}),
            )
        ],
        "participation": [
            {"user_id": i, "workshop_type": workshop, "started_at": now}
            for i in ids
            for workshop in ("ast", "ia")
        ],
    }


async def seed(database_url: str, count: int) -> None:
    engine = create_engine(Settings(database_url=database_url, sqlite_synchronous="NORMAL"))
    await upgrade_to_head(engine)
    password_hash = PasswordHasher().hash("nobody knows this password")
    tables = {
        "users": users,
        "steps": workshop_step_data,
        "progress": navigation_progress,
        "assessments": assessments,
        "participation": workshop_participation,
    }
    async with engine.begin() as conn:
        for first in range(1, count + 1, CHUNK):
            rows = _rows(first, min(CHUNK, count - first + 1), password_hash)
            for name, table in tables.items():
                await conn.execute(insert(table), rows[name])
    await engine.dispose()


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def export_child(args: list[str]) -> None:
    """In the export's own process: start up (imports), reset the peak RSS to the current RSS
    (Linux: clear_refs 5), run the CLI, then report the RSS before and the peak since."""
    # Imported here, so that start-up is over before the peak is reset.
    from workshop_data.cli import app

    Path("/proc/self/clear_refs").write_text("5")
    started = _status_kib("VmRSS")
    clock = time.perf_counter()
    app(args, standalone_mode=False)
    seconds = time.perf_counter() - clock
    print(f"{MARK} {started} {_status_kib('VmHWM')} {seconds}", file=sys.stderr)


MARK = "export-bench-rss-kib"


def run_export(database_url: str, output: Path) -> tuple[float, float, int, int]:
    """Seconds in all and seconds after start-up; RSS once started up, and the peak RSS from
    then on (KiB) of `workshop-data export --all` in its own process.

    Start-up is measured apart because it is the same for any number of users, and because
    importing the users module hashes a password with argon2, which briefly takes 64 MiB."""
    command = [
        sys.executable,
        "-m",
        "bench.export_bench",
        "--child",
        "export",
        "--all",
        "--output",
        str(output),
        "--database-url",
        database_url,
    ]
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"export failed: {result.stderr}")
    (line,) = [line for line in result.stderr.splitlines() if line.startswith(MARK)]
    _, after_start, peak, seconds = line.split()
    return elapsed, float(seconds), int(after_start), int(peak)


def measure(count: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="wd-export-bench-") as scratch:
        database_url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        started = time.perf_counter()
        # Seeded by another process, so that this one stays small: a child's wait4 peak also
        # counts the parent's memory it was forked from.
        subprocess.run(
            [sys.executable, "-m", "bench.export_bench", "--seed", database_url, str(count)],
            check=True,
        )
        seeded = time.perf_counter() - started
        output = Path(scratch) / "all.ndjson"
        in_all, seconds, started, peak = run_export(database_url, output)
        lines = sum(1 for _ in output.open("rb"))
        if lines != count:
            raise SystemExit(f"expected {count} exports, found {lines}")
        size = output.stat().st_size
        return Result(count, count * STEPS_PER_USER, seeded, in_all, seconds, size, started, peak)


def table(results: list[Result]) -> str:
    def mib(kib: int) -> str:
        return f"{kib / 1024:.1f} MiB"

    rows = [
        "| users | step rows | process time | export time (after start-up) | users/s | output "
        "| RSS after start-up | peak RSS | growth while exporting |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        rows.append(
            f"| {r.users:,} | {r.step_rows:,} | {r.process_seconds:.2f} s "
            f"| {r.export_seconds:.2f} s | {r.users / r.export_seconds:,.0f} "
            f"| {r.output_bytes / 2**20:.1f} MiB | {mib(r.started_rss_kib)} "
            f"| {mib(r.peak_rss_kib)} | {mib(r.peak_rss_kib - r.started_rss_kib)} |"
        )
    return "\n".join(rows)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        export_child(sys.argv[2:])
        return
    if sys.argv[1:2] == ["--seed"]:
        asyncio.run(seed(sys.argv[2], int(sys.argv[3])))
        return
    counts = [int(arg) for arg in sys.argv[1:]] or [1000, 10000]
    results = []
    for count in counts:
        result = measure(count)
        print(
            f"{count} users: seeded in {result.seed_seconds:.1f} s, exported in "
            f"{result.export_seconds:.2f} s, peak RSS {result.peak_rss_kib / 1024:.1f} MiB",
            file=sys.stderr,
        )
        results.append(result)
    print(table(results))


if __name__ == "__main__":
    main()
