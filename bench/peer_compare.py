"""Our save endpoint beside the original platform's stack (the peer, `bench/original_stack.py`):
the same wrk script, the same 1 KB documents and 1,000 signed-in users, each on its own
PostgreSQL database, at the same concurrency, in interleaved rounds; medians and ratios."""

import asyncio
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from tests import pgbouncer
from tests.server_process import ServerProcess

from bench import original_stack
from bench.common import (
    BEFORE,
    RESULTS,
    CpuPerRequest,
    LoadResult,
    before_env,
    cookie_header,
    load_with_cpu,
    median_cpu,
    median_load,
    require,
    run_wrk,
    scratch_postgres,
    seed_users,
)

USERS = 1000
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_PEER_CONCURRENCY", "16,64").split(",")]
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Also ours through a PgBouncer (transaction pooling, `database_pgbouncer` on), same rounds.
VIA_PGBOUNCER = os.environ.get("BENCH_PGBOUNCER", "1") == "1" and pgbouncer.available()
SCRIPT = Path(__file__).with_name("wrk_save.lua")
PATH = "/api/workshop-data/step"


def _load(url: str, cookies: Path, connections: int) -> LoadResult:
    return run_wrk(url, PATH, connections, SECONDS, SCRIPT, [str(cookies), "0"])


# name, url, cookies file, the server's process id
Contestant = tuple[str, str, Path, int]


def compare(
    contestants: list[Contestant],
) -> tuple[dict[str, LoadResult], dict[str, CpuPerRequest]]:
    rounds: dict[str, list[LoadResult]] = {}
    cpu: dict[str, list[CpuPerRequest]] = {}
    for round_number in range(ROUNDS):
        print(f"peer comparison round {round_number + 1}/{ROUNDS}", file=sys.stderr)
        for connections in CONCURRENCY:
            # Alternate who goes first, so neither always meets a warmer machine.
            order = list(contestants)
            if round_number % 2:
                order.reverse()
            for name, url, cookies, pid in order:
                result, used = load_with_cpu(pid, partial(_load, url, cookies, connections))
                rounds.setdefault(f"{name} c={connections}", []).append(result)
                cpu.setdefault(f"{name} c={connections}", []).append(used)
    return (
        {name: median_load(values) for name, values in rounds.items()},
        {name: median_cpu(values) for name, values in cpu.items()},
    )


def _pid(process: "subprocess.Popen[bytes] | None") -> int:
    assert process is not None, "started before it is measured"
    return process.pid


def cpu_report(cpu: dict[str, CpuPerRequest]) -> list[str]:
    """Where each contestant's saves spend the machine's CPU, and the rate that CPU allows."""
    cores = os.cpu_count() or 1
    lines = [
        "",
        "CPU time per save (µs; medians of the same rounds), and the rate at which the "
        f"machine's {cores} cores would be saturated by it:",
        "",
        "| contestant | server | PostgreSQL | wrk | total | saves/s the cores allow |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, used in cpu.items():
        lines.append(
            f"| {name} | {used.server_us:.0f} | {used.database_us:.0f} | {used.load_us:.0f} "
            f"| {used.total_us:.0f} | {cores * 1e6 / used.total_us:.0f} |"
        )
    return lines


def budget_report(
    summary: dict[str, LoadResult], cpu: dict[str, CpuPerRequest], floor: CpuPerRequest
) -> list[str]:
    """What three times the peer would allow a save in CPU time, beside what ours cannot go
    below: the database's and the load generator's share of our save, and the server's CPU
    for a request that touches no database (`/healthz`, the cost of HTTP and the middleware
    alone)."""
    cores = os.cpu_count() or 1
    best_peer = max(CONCURRENCY, key=lambda c: summary[f"peer c={c}"].rate)
    target = 3 * summary[f"peer c={best_peer}"].rate
    ours = cpu[f"ours c={best_peer}"]
    least = ours.database_us + ours.load_us + floor.server_us
    return [
        "",
        f"- three times the peer's best is {target:.0f} saves/s: at most "
        f"{cores * 1e6 / target:.0f} µs of CPU per save on {cores} cores, for everything",
        f"- ours at c={best_peer}, without any Python beyond an empty endpoint's: PostgreSQL "
        f"{ours.database_us:.0f} + wrk {ours.load_us:.0f} + the server's "
        f"{floor.server_us:.0f} for `/healthz` = {least:.0f} µs, so at most "
        f"{cores * 1e6 / least:.0f} saves/s, "
        f"**{cores * 1e6 / least / summary[f'peer c={best_peer}'].rate:.2f}** times the peer",
    ]


def report(
    summary: dict[str, LoadResult], cpu: dict[str, CpuPerRequest], floor: CpuPerRequest
) -> str:
    lines = [
        f"Ours: `workshop-data serve --workers {WORKERS}`; peer: Node, Express 5, express-session "
        f"in PostgreSQL (connect-pg-simple, rolling), pg. {ROUNDS} interleaved rounds of "
        f"{SECONDS} s, medians.",
        "",
        "| concurrency | ours saves/s | ours p99 ms | peer saves/s | peer p99 ms | ours ÷ peer |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for connections in CONCURRENCY:
        ours, peer = summary[f"ours c={connections}"], summary[f"peer c={connections}"]
        lines.append(
            f"| {connections} | {ours.rate} | {ours.p99_ms} | {peer.rate} | {peer.p99_ms} "
            f"| **{ours.rate / peer.rate:.2f}** |"
        )
    if VIA_PGBOUNCER:
        lines += [
            "",
            "Ours through PgBouncer (transaction pooling, `WORKSHOP_DATA_DATABASE_PGBOUNCER=1`):",
            "",
            "| concurrency | saves/s | p99 ms | ÷ ours direct |",
            "| ---: | ---: | ---: | ---: |",
        ]
        for connections in CONCURRENCY:
            via, ours = summary[f"ours-pgbouncer c={connections}"], summary[f"ours c={connections}"]
            lines.append(
                f"| {connections} | {via.rate} | {via.p99_ms} | **{via.rate / ours.rate:.2f}** |"
            )
    if BEFORE:
        lines += [
            "",
            f"Ours before (`{BEFORE}`), same rounds:",
            "",
            "| concurrency | before saves/s | before p99 ms | after ÷ before | before ÷ peer |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for connections in CONCURRENCY:
            before = summary[f"ours-before c={connections}"]
            ours, peer = summary[f"ours c={connections}"], summary[f"peer c={connections}"]
            lines.append(
                f"| {connections} | {before.rate} | {before.p99_ms} "
                f"| **{ours.rate / before.rate:.2f}** | {before.rate / peer.rate:.2f} |"
            )
    best_peer = max(CONCURRENCY, key=lambda c: summary[f"peer c={c}"].rate)
    best_ours = max(summary[f"ours c={c}"].rate for c in CONCURRENCY)
    errors = sum(r.errors for r in summary.values())
    lines += [
        "",
        f"- our best ÷ the peer at its best concurrency (c={best_peer}): "
        f"**{best_ours / summary[f'peer c={best_peer}'].rate:.2f}** (target ≥ 3)",
        f"- non-2xx responses and socket errors over all runs: {errors}",
        *cpu_report(cpu),
        *budget_report(summary, cpu, floor),
    ]
    return "\n".join(lines)


def main() -> None:
    require("wrk")
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        ours_cookies = Path(scratch) / "ours.txt"
        peer_cookies = Path(scratch) / "peer.txt"
        with ExitStack() as databases:
            ours_db = databases.enter_context(scratch_postgres())
            peer_db = databases.enter_context(scratch_postgres())
            tokens = asyncio.run(seed_users(ours_db, USERS))
            # The earlier version gets a database of its own, seeded with the same sessions.
            before_db = databases.enter_context(scratch_postgres()) if BEFORE else ""
            if BEFORE:
                asyncio.run(seed_users(before_db, USERS, tokens))
            ours_cookies.write_text("".join(f"{cookie_header(t)}\n" for t in tokens))
            peer, cookies = original_stack.prepare(peer_db, USERS)
            peer_cookies.write_text("\n".join(cookies) + "\n")
            with ExitStack() as stack:
                ours = stack.enter_context(ServerProcess(ours_db, workers=WORKERS))
                peer.start()
                stack.callback(peer.stop)
                contestants: list[Contestant] = [
                    ("peer", peer.url, peer_cookies, _pid(peer.process)),
                    ("ours", ours.url, ours_cookies, _pid(ours.process)),
                ]
                if VIA_PGBOUNCER:
                    bouncer = stack.enter_context(pgbouncer.PgBouncer(ours_db))
                    via = stack.enter_context(
                        ServerProcess(
                            bouncer.url(ours_db.rsplit("/", 1)[1]),
                            workers=WORKERS,
                            env={"WORKSHOP_DATA_DATABASE_PGBOUNCER": "1"},
                        )
                    )
                    contestants.append(("ours-pgbouncer", via.url, ours_cookies, _pid(via.process)))
                if BEFORE:
                    earlier = stack.enter_context(
                        ServerProcess(before_db, workers=WORKERS, env=before_env())
                    )
                    contestants.append(
                        ("ours-before", earlier.url, ours_cookies, _pid(earlier.process))
                    )
                summary, cpu = compare(contestants)
                _, floor = load_with_cpu(
                    _pid(ours.process), partial(run_wrk, ours.url, "/healthz", 16, SECONDS)
                )
    text = report(summary, cpu, floor)
    (RESULTS / "peer_compare.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
