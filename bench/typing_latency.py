"""Typing latency in a field holding 2 MiB of text, in Chromium against a real server.

A demo participant (`workshop-data demo` on a scratch SQLite database) signs in, opens IA 3-4
and puts 2 MiB of text into "Why is this important to you?" (well under the server's 8 MiB
document limit, docs/api.md); once the server has it ("All changes saved"), they type
KEYS characters at the end of it, one every PAUSE_MS. Per keystroke the page itself measures,
with the Performance API:

- **key → next frame**: from the keydown event's timestamp to the end of the next frame
  (a task posted from the first requestAnimationFrame callback after the key, so style,
  layout and paint of that frame are included);
- **Event Timing**: the longest `event` entry of the key's interaction (PerformanceObserver,
  durationThreshold 16; a keystroke with none took under 16 ms by the browser's own count).

Rounds are interleaved: with `BENCH_BEFORE=<checkout of an earlier version>` (its `web/dist`
built), that version's server and app run in the same rounds. Reported: median and p95 of
every keystroke of a contestant, and the median of the per-round medians.

Run: `.venv/bin/python -m bench.typing_latency` (part of `make bench`); `BENCH_ROUNDS`
(default 3), `BENCH_KEYS` (40), `BENCH_TEXT_BYTES` (2 MiB). `BENCH_PROFILE=<file>` also takes
a CPU profile (Chrome DevTools protocol) of one more round of the current tree's typing and
prints where the time went; `BENCH_TRACE=<prefix>` traces one more round of the plain
textarea and of the current tree (Chromium's tracing, `<prefix>.plain.json`,
`<prefix>.this.json`) and prints the renderer main thread's busiest events. For the profile,
serve an unminified build
(`cd web && npx vite build --minify false --outDir /tmp/wd-dist`) with
`WORKSHOP_DATA_STATIC_DIR=/tmp/wd-dist` to read function names."""

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS
from tests.server_process import ServerProcess

from bench.common import BEFORE, before_env

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
KEYS = int(os.environ.get("BENCH_KEYS", "40"))
TEXT_BYTES = int(os.environ.get("BENCH_TEXT_BYTES", str(2 * 1024 * 1024)))
PAUSE_MS = 100  # a fast typist: 10 keys a second, so journal writes and timers run between keys
PROFILE = os.environ.get("BENCH_PROFILE")
TRACE = os.environ.get("BENCH_TRACE")
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "v8"]
STEP_URL = "/#/ia/ia-3-4"
FIELD_LABEL = "Why is this important to you?"

# Installed before the app: one record per keydown, filled in as its frame ends; Event
# Timing entries are collected by interactionId and matched to keys in order.
MEASURE = """
(() => {
  const keys = [];
  const events = new Map();
  let waiting = null;
  window.__typing = { keys, events, settled: () => new Promise((resolve) => {
    const last = keys[keys.length - 1];
    if (!last || last.frameEnd !== null) resolve(); else waiting = resolve;
  }) };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.interactionId) continue;
      const seen = events.get(entry.interactionId);
      events.set(entry.interactionId, {
        start: Math.min(seen?.start ?? entry.startTime, entry.startTime),
        duration: Math.max(seen?.duration ?? 0, entry.duration),
      });
    }
  }).observe({ type: 'event', durationThreshold: 16, buffered: true });
  // The input event reaches window's capture listener first and its bubble listener last:
  // between them run the app's handlers and, in microtasks, React's render and the hook's
  // journal write.
  window.addEventListener('input', () => {
    const record = keys[keys.length - 1];
    if (record) record.inputStart = performance.now();
  }, { capture: true });
  window.addEventListener('input', () => {
    const record = keys[keys.length - 1];
    if (record) record.inputEnd = performance.now();
  });
  window.addEventListener('keydown', (event) => {
    const record = { start: event.timeStamp, inputStart: null, inputEnd: null, frameEnd: null };
    keys.push(record);
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        record.frameEnd = performance.now();
        if (waiting) { const done = waiting; waiting = null; done(); }
      };
      channel.port2.postMessage(null);
    });
  }, { capture: true });
})();
"""


@dataclass
class Contestant:
    name: str
    server: ServerProcess | None  # None: a plain textarea, no app (the browser's own cost)
    username: str = ""
    password: str = ""
    frame_ms: list[float] = field(default_factory=list)
    handled_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)
    round_medians: list[float] = field(default_factory=list)


def demo_participant(database_url: str, env: dict[str, str]) -> tuple[str, str]:
    """Run `workshop-data demo` on a fresh database; the participant's username and password."""
    output = subprocess.run(
        [sys.executable, "-m", "workshop_data", "demo", "--database-url", database_url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"participant\s+username: (\S+)\s+password: (\S+)", output)
    if found is None:
        raise RuntimeError(f"no demo participant in: {output}")
    return found.group(1), found.group(2)


# The app's field without the app: same font, width, padding and rows, nothing listening.
PLAIN_PAGE = """<!doctype html><html><body style="margin:0;background:#fbfaf7">
<div style="padding:1.25rem;max-width:46rem;font-family:system-ui,-apple-system,'Segoe UI',
Roboto,sans-serif;line-height:1.5"><label for="plain">Plain</label>
<textarea id="plain" rows="4" style="font:inherit;width:100%;box-sizing:border-box;
padding:0.5rem;border:1px solid #bcccdc;border-radius:6px"></textarea></div></body></html>"""


async def open_full_step(browser: Browser, contestant: Contestant, text: str) -> tuple[Page, Any]:
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    page = await context.new_page()
    if contestant.server is None:
        await page.set_content(PLAIN_PAGE)
        await page.evaluate(MEASURE)
        field_ = page.get_by_label("Plain")
        await field_.fill(text)
    else:
        await context.add_init_script(MEASURE)
        await page.goto(contestant.server.url + STEP_URL)
        await page.get_by_label("Username or email").fill(contestant.username)
        await page.get_by_label("Password").fill(contestant.password)
        await page.get_by_role("button", name="Sign in").click()
        field_ = page.get_by_label(FIELD_LABEL)
        await field_.wait_for()
        await field_.fill(text)
        saved = page.get_by_test_id("save-state").filter(has_text="All changes saved")
        await saved.wait_for(timeout=120_000)
    await field_.focus()
    await page.keyboard.press("Control+End")
    return page, context


@dataclass
class Keystrokes:
    frame_ms: list[float]  # keydown → the end of the next frame
    handled_ms: list[float]  # the input event's handling (app, React, hook)
    event_ms: list[float]  # Event Timing of the interaction (0: under 16 ms)


async def type_keys(page: Page) -> Keystrokes:
    await page.evaluate("window.__typing.keys.length = 0; window.__typing.events.clear()")
    for index in range(KEYS):
        await page.keyboard.type("abcdefghij"[index % 10])
        await page.evaluate("window.__typing.settled()")
        await page.wait_for_timeout(PAUSE_MS)
    await page.wait_for_timeout(200)  # the last Event Timing entries are reported after paint
    measured = await page.evaluate(
        "({ keys: window.__typing.keys, events: [...window.__typing.events.entries()] })"
    )
    keys = measured["keys"]
    # Entries of interactions before the first key (reported late, after their paint) are not
    # this round's.
    events = [
        event["duration"]
        for _, event in sorted(measured["events"])
        if event["start"] >= keys[0]["start"] - 1
    ]
    return Keystrokes(
        frame_ms=[k["frameEnd"] - k["start"] for k in keys],
        handled_ms=[k["inputEnd"] - k["inputStart"] for k in keys],
        # Interactions over the threshold, in order; the others took under 16 ms.
        event_ms=events + [0.0] * (len(keys) - len(events)),
    )


async def typed_round(browser: Browser, contestant: Contestant, text: str) -> None:
    page, context = await open_full_step(browser, contestant, text)
    try:
        typed = await type_keys(page)
        label = FIELD_LABEL if contestant.server else "Plain"
        value = await page.get_by_label(label).input_value()
        if len(value) != len(text) + KEYS:
            raise AssertionError(f"{contestant.name}: the field holds {len(value)} characters")
    finally:
        await context.close()
    contestant.frame_ms += typed.frame_ms
    contestant.handled_ms += typed.handled_ms
    contestant.event_ms += typed.event_ms
    contestant.round_medians.append(statistics.median(typed.handled_ms))


async def profile_round(browser: Browser, contestant: Contestant, text: str, path: str) -> None:
    page, context = await open_full_step(browser, contestant, text)
    try:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Profiler.enable")
        await cdp.send("Profiler.setSamplingInterval", {"interval": 100})
        await cdp.send("Profiler.start")
        await type_keys(page)
        profile = (await cdp.send("Profiler.stop"))["profile"]
    finally:
        await context.close()
    await asyncio.to_thread(Path(path).write_text, json.dumps(profile))
    print_profile(profile)


async def trace_round(browser: Browser, contestant: Contestant, text: str, path: str) -> None:
    """One more round under Chromium's tracing; the renderer main thread's busiest events."""
    page, context = await open_full_step(browser, contestant, text)
    try:
        await browser.start_tracing(page=page, path=path, categories=TRACE_CATEGORIES)
        await type_keys(page)
        await browser.stop_tracing()
    finally:
        await context.close()
    trace = json.loads(await asyncio.to_thread(Path(path).read_text))
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    main_threads = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    busy: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("ph") == "X" and (event["pid"], event["tid"]) in main_threads:
            busy[event["name"]] += event.get("dur", 0) / 1000
    print(f"\nTrace of {contestant.name} ({KEYS} keys), main thread, ms per keystroke:\n")
    for name, ms in sorted(busy.items(), key=lambda item: -item[1])[:20]:
        print(f"{ms / KEYS:8.1f}  {name}")


def print_profile(profile: dict[str, Any]) -> None:
    """Self time per function (name, file, line), most first."""
    nodes = {node["id"]: node for node in profile["nodes"]}
    deltas = profile["timeDeltas"]
    self_ms: dict[str, float] = defaultdict(float)
    for sample, delta in zip(profile["samples"], [*deltas[1:], 0], strict=True):
        frame = nodes[sample]["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        self_ms[f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}"] += (
            delta / 1000
        )
    total = sum(self_ms.values())
    print(f"\nCPU profile ({total:.0f} ms sampled), self time:\n")
    for name, ms in sorted(self_ms.items(), key=lambda item: -item[1])[:25]:
        print(f"{ms:9.1f} ms  {100 * ms / total:5.1f} %  {name}")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


async def run(contestants: list[Contestant]) -> None:
    text = ("I want to grow as a leader this year. " * (TEXT_BYTES // 38 + 1))[:TEXT_BYTES]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for _ in range(ROUNDS):
                for contestant in contestants:
                    await typed_round(browser, contestant, text)
            if PROFILE:
                await profile_round(browser, contestants[-1], text, PROFILE)
            if TRACE:
                for contestant in (contestants[0], contestants[-1]):
                    name = contestant.name.split(" ")[0]
                    await trace_round(browser, contestant, text, f"{TRACE}.{name}.json")
        finally:
            await browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        plan = [("before", before_env())] if BEFORE else []
        plan.append(("this tree", {}))
        contestants = [Contestant("plain textarea (no app)", None)]
        servers = []
        try:
            for name, env in plan:
                url = f"sqlite:///{Path(scratch) / (name.replace(' ', '-') + '.db')}"
                username, password = demo_participant(url, env)
                server = ServerProcess(url, env=env).start()
                servers.append(server)
                contestants.append(Contestant(name, server, username, password))
            asyncio.run(run(contestants))
        finally:
            for server in servers:
                server.stop()
    print(
        f"### Typing into a field holding {TEXT_BYTES / 1024 / 1024:.1f} MiB "
        f"({KEYS} keys a round, {ROUNDS} interleaved rounds)\n"
    )
    print(
        "| version | keystroke handled, median | p95 | median of round medians "
        "| key → next frame, median | p95 | Event Timing, median | p95 | keys ≥ 16 ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in contestants:
        over = sum(1 for ms in c.event_ms if ms >= 16)
        print(
            f"| {c.name} | {statistics.median(c.handled_ms):.1f} ms "
            f"| {p95(c.handled_ms):.1f} ms | {statistics.median(c.round_medians):.1f} ms "
            f"| {statistics.median(c.frame_ms):.0f} ms | {p95(c.frame_ms):.0f} ms "
            f"| {statistics.median(c.event_ms):.0f} ms | {p95(c.event_ms):.0f} ms "
            f"| {over} of {len(c.event_ms)} |"
        )


if __name__ == "__main__":
    main()
