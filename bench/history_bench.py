"""The cost of step history on a save: the service layer (no HTTP) saving changed documents
with history off (one autocommit statement) and on (the save, the history row and the prune in
one transaction), on SQLite and PostgreSQL, at 1 and 8 concurrent savers. Reported: saves per
second and the median and p99 of one save; then how many history rows the busiest step holds.

`BENCH_SECONDS` (default 5) per measurement, `BENCH_ROUNDS` (default 3) interleaved rounds."""

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import median, scratch_postgres, seed_users
from workshop_data.catalog.service import load_catalog
from workshop_data.db.engine import create_engine
from workshop_data.db.tables import workshop_step_history
from workshop_data.settings import Settings
from workshop_data.step_data import service
from workshop_data.step_data.history import HistoryPolicy

USERS = 1000
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
STEP = load_catalog().step("ia", "ia-3-4")
POLICY = HistoryPolicy(keep_versions=20, hourly_days=30)
FILLER = "I reflect on what matters to my team and why. " * 19


async def _run(
    engine: AsyncEngine, concurrency: int, history: HistoryPolicy | None
) -> dict[str, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + SECONDS

    async def worker(index: int) -> None:
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            started = time.perf_counter()
            async with engine.connect() as conn:
                await service.save_step(
                    conn,
                    user_id=random.randint(1, USERS),
                    step=STEP,
                    data={"whyReflection": f"{FILLER} {index}-{counter}-{random.random()}"},
                    base_version=None,
                    request_id=None,
                    history=history,
                )
            latencies.append((time.perf_counter() - started) * 1000)

    start = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.monotonic() - start
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[int(len(latencies) * 0.99)],
    }


async def _bench(database_url: str) -> list[tuple[str, int, dict[str, float]]]:
    await seed_users(database_url, USERS)
    settings = Settings(database_url=database_url, database_pool_size=8)
    engine = create_engine(settings)
    autocommit = (
        engine if settings.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
    )
    rows: list[tuple[str, int, dict[str, float]]] = []
    try:
        for concurrency in (1, 8):
            runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
            for _ in range(ROUNDS):
                runs["off"].append(await _run(autocommit, concurrency, None))
                runs["on"].append(await _run(engine, concurrency, POLICY))
            for mode, results in runs.items():
                rows.append(
                    (mode, concurrency, {k: median([r[k] for r in results]) for k in results[0]})
                )
        async with engine.connect() as conn:
            h = workshop_step_history
            per_step = (
                select(func.count().label("n")).select_from(h).group_by(h.c.user_id).subquery()
            )
            most = (await conn.execute(select(func.max(per_step.c.n)))).scalar_one()
        rows.append(("rows", 0, {"most": float(most or 0)}))
    finally:
        await engine.dispose()
    return rows


def _report(name: str, rows: list[tuple[str, int, dict[str, float]]]) -> None:
    print(f"### {name}\n")
    print("| history | savers | saves/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for mode, concurrency, values in rows:
        if mode == "rows":
            continue
        print(
            f"| {mode} | {concurrency} | {values['rate']:.0f} | {values['p50']:.2f} "
            f"| {values['p99']:.2f} |"
        )
    most = next(values["most"] for mode, _, values in rows if mode == "rows")
    print(
        f"\nHistory rows of the busiest step: {most:.0f} "
        f"(bound: {POLICY.max_rows}; within one hour: 20).\n"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        _report("SQLite", asyncio.run(_bench(f"sqlite:///{path}")))
    with scratch_postgres() as url:
        _report("PostgreSQL", asyncio.run(_bench(url)))


if __name__ == "__main__":
    main()
