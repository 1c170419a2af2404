"""The hook's saves after a step's first are merge patches: `PATCH
/api/workshop-data/step/{workshopType}/{stepId}` (the row is read, patched and written by
the save's statement). Ours on PATCH beside ours on POST, with the same wrk script, users and
1 KB documents, in interleaved rounds; with `BENCH_BEFORE` an earlier version as well."""

import asyncio
import sys
import tempfile
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from tests.server_process import ServerProcess

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
from bench.peer_compare import (
    CONCURRENCY,
    PATH,
    ROUNDS,
    SCRIPT,
    SECONDS,
    USERS,
    WORKERS,
    cpu_report,
)

METHODS = ("POST", "PATCH")


def _load(url: str, cookies: Path, connections: int, method: str) -> LoadResult:
    mode = ["patch"] if method == "PATCH" else []
    return run_wrk(url, PATH, connections, SECONDS, SCRIPT, [str(cookies), "0", *mode])


def main() -> None:
    require("wrk")
    RESULTS.mkdir(exist_ok=True)
    rounds: dict[str, list[LoadResult]] = {}
    cpu: dict[str, list[CpuPerRequest]] = {}
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        cookies = Path(scratch) / "cookies.txt"
        servers: list[tuple[str, ServerProcess]] = []
        versions: list[tuple[str, dict[str, str]]] = [("ours", {})]
        versions += [("before", before_env())] if BEFORE else []
        tokens: list[str] | None = None
        for name, env in versions:
            database = stack.enter_context(scratch_postgres())
            tokens = asyncio.run(seed_users(database, USERS, tokens))
            servers.append(
                (name, stack.enter_context(ServerProcess(database, workers=WORKERS, env=env)))
            )
        assert tokens is not None
        cookies.write_text("".join(f"{cookie_header(t)}\n" for t in tokens))
        for round_number in range(ROUNDS):
            print(f"patch comparison round {round_number + 1}/{ROUNDS}", file=sys.stderr)
            for connections in CONCURRENCY:
                order = servers if round_number % 2 == 0 else servers[::-1]
                for name, server in order:
                    for method in METHODS:
                        assert server.process is not None
                        key = f"{name} {method} c={connections}"
                        result, used = load_with_cpu(
                            server.process.pid,
                            partial(_load, server.url, cookies, connections, method),
                        )
                        rounds.setdefault(key, []).append(result)
                        cpu.setdefault(key, []).append(used)
    summary = {key: median_load(values) for key, values in rounds.items()}
    lines = [
        f"`workshop-data serve --workers {WORKERS}`, {ROUNDS} interleaved rounds of {SECONDS} s, "
        "medians; PATCH sends the same document as a merge patch of the step's data.",
        "",
        "| version | concurrency | POST saves/s (p99 ms) | PATCH saves/s (p99 ms) | PATCH ÷ POST |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, _ in versions:
        for connections in CONCURRENCY:
            post = summary[f"{name} POST c={connections}"]
            patch = summary[f"{name} PATCH c={connections}"]
            lines.append(
                f"| {name} | {connections} | {post.rate} ({post.p99_ms}) | {patch.rate} "
                f"({patch.p99_ms}) | **{patch.rate / post.rate:.2f}** |"
            )
    if BEFORE:
        lines.append("")
        for connections in CONCURRENCY:
            ours = summary[f"ours PATCH c={connections}"].rate
            before = summary[f"before PATCH c={connections}"].rate
            lines.append(f"- PATCH after ÷ before, c={connections}: **{ours / before:.2f}**")
    errors = sum(r.errors for r in summary.values())
    lines.append(f"- non-2xx responses and socket errors over all runs: {errors}")
    lines += cpu_report({key: median_cpu(values) for key, values in cpu.items()})
    text = "\n".join(lines)
    (RESULTS / "patch_compare.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
