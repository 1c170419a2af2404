"""The hook under a typing participant, in the real browser against a real server.

A participant types 600 characters at 5 per second into IA 3-4 (debounce 1000 ms, maxWait
10000 ms, the hook's defaults). The page's clock is Playwright's fake clock, advanced 200 ms
per keystroke, so the two minutes of typing take seconds; requests go to the real server.
Reported: how many save requests were sent, and the longest time any typed character waited
unsaved (from its keystroke to the save response that contained it). Also the hook's size,
minified and gzipped, as an application would bundle it (React external)."""

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS
from tests.server_process import ServerProcess

from bench.hook_size import ALWAYS_EXTERNAL, PACKAGE, measure
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

CHARACTERS = 600
PER_SECOND = 5


async def _make_user(database_url: str) -> tuple[str, str]:
    engine = create_engine(Settings(database_url=database_url))
    await upgrade_to_head(engine)
    username, password = f"typist-{uuid.uuid4().hex[:6]}", "typist-quiet-harbor-71"
    async with engine.connect() as conn:
        await users_service.create_user(conn, username=username, password=password)
    await engine.dispose()
    return username, password


async def simulate(server: ServerProcess, username: str, password: str) -> dict[str, Any]:
    interval_ms = 1000 // PER_SECOND
    saves: list[tuple[int, int]] = []  # (fake time of the response, characters it contained)
    clock_ms = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page()
        await page.goto(f"{server.url}/#/ia/ia-3-4")
        await page.get_by_label("Username or email").fill(username)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        field = page.get_by_label("Why is this important to you?")
        await field.wait_for()
        await page.clock.install()

        async def on_response(response: Any) -> None:
            request = response.request
            if request.method == "POST" and request.url.endswith("/api/workshop-data/step"):
                body = request.post_data_json
                saves.append((clock_ms, len(body["data"]["whyReflection"])))
            elif request.method == "PATCH" and "/api/workshop-data/step/" in request.url:
                patch = request.post_data_json  # a merge patch: only what changed
                saves.append((clock_ms, len(patch.get("whyReflection") or "")))

        page.on("response", on_response)
        await field.click()
        typed_at: list[int] = []
        for i in range(CHARACTERS):
            await page.keyboard.type("abcdefghij"[i % 10])
            typed_at.append(clock_ms)
            await page.clock.run_for(interval_ms)
            clock_ms += interval_ms
            await asyncio.sleep(0)  # let responses of saves sent meanwhile arrive
        for _ in range(40):  # quiet time: the debounce and any retry complete
            await page.clock.run_for(500)
            clock_ms += 500
            await asyncio.sleep(0.05)
        await page.wait_for_timeout(300)
        await browser.close()
    longest_ms = 0
    for index, at in enumerate(typed_at):
        saved = next((t for t, chars in saves if chars > index), None)
        if saved is None:
            raise AssertionError(f"character {index} was never saved")
        longest_ms = max(longest_ms, saved - at)
    return {"saves": len(saves), "longest_unsaved_s": longest_ms / 1000}


def hook_size() -> dict[str, int]:
    """The package's entry bundled as before this benchmark had a module of its own (only React
    external); bench.hook_size reports the entries and what is bundled with them."""
    size = measure(PACKAGE / "src" / "index.ts", ALWAYS_EXTERNAL)
    return {"minified_bytes": size.minified, "gzipped_bytes": size.gzipped}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'typing.db'}"
        username, password = asyncio.run(_make_user(url))
        with ServerProcess(url) as server:
            result = asyncio.run(simulate(server, username, password))
    size = hook_size()
    print("### Typing participant (IA 3-4, 600 characters at 5 per second)\n")
    print("| save requests | longest unsaved typing | hook minified | hook min+gzip |")
    print("| ---: | ---: | ---: | ---: |")
    print(
        f"| {result['saves']} | {result['longest_unsaved_s']:.1f} s | "
        f"{size['minified_bytes'] / 1024:.1f} KiB | {size['gzipped_bytes'] / 1024:.1f} KiB |"
    )


if __name__ == "__main__":
    main()
