"""Bytes sent per keystroke-save, full save against merge patch, in Chromium against a real
server.

The hook's package (web/packages/workshop-data-react) is bundled with esbuild and loaded into
a page of the server's origin; a signed-in participant types 20 characters, one save per keystroke
(`saveNow()` after each), into:

- IA 3-3 holding a 1 MB image as a data URL inside the step (what old clients stored),
- IA 3-3 holding a 1 MB image uploaded to POST /api/uploads (what the web app stores now),
- IA 3-4 holding a 200 KB reflection, typing into another field,
- and typing into that 200 KB reflection itself (a merge patch replaces a changed string
  whole, so this save is as big as the field: the limit of merge patch).

Each with `partialSaves: false` (every save the whole document, POST) and with the default
(merge patch, PATCH). Reported: the request body of each save in UTF-8 bytes, the median and
largest over the 20 saves, measured in the page's fetch (request headers, some 400 bytes,
are the same either way). Target: ≤ 2 KB per keystroke-save with a 1 MB image."""

import asyncio
import base64
import statistics
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Page, async_playwright
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.test_images_offline import noisy_png
from tests.server_process import ServerProcess

from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

WEB = Path(__file__).resolve().parents[1] / "web"
KEYSTROKES = 20
TARGET_BYTES = 2048

# Runs in the page: one controller, one save per keystroke, body sizes as sent.
TYPE_INTO_STEP = """
async ({ step, initial, field, partialSaves, keystrokes }) => {
  const { StepDataController, byteLength } = window.WorkshopData;
  const sizes = [];
  const methods = [];
  const measuring = (input, init = {}) => {
    if (init.method === 'POST' || init.method === 'PATCH') {
      sizes.push(typeof init.body === 'string' ? byteLength(init.body) : 0);
      methods.push(init.method);
    }
    return fetch(input, init);
  };
  const [workshopType, stepId] = step.split('/');
  const controller = new StepDataController(workshopType, stepId, initial, () => ({
    fetch: measuring, journal: null, createChannel: null, enableAutoSave: false,
    userId: 'bench', partialSaves,
  }));
  controller.start();
  for (let i = 0; i < 200 && !controller.getSnapshot().loaded; i += 1) {
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!controller.getSnapshot().loaded) throw new Error('the step did not load');
  sizes.length = 0;
  methods.length = 0;
  let text = controller.getSnapshot().data[field] || '';
  for (let i = 0; i < keystrokes; i += 1) {
    text += 'abcdefghij'[i % 10];
    controller.updateData({ [field]: text });
    await controller.saveNow();
    const state = controller.getSnapshot();
    if (state.hasPendingChanges) throw new Error('a save failed: ' + state.error);
  }
  controller.dispose();
  return { sizes, methods };
}
"""


async def _make_user(database_url: str) -> tuple[str, str]:
    engine = create_engine(Settings(database_url=database_url))
    await upgrade_to_head(engine)
    username, password = f"bytes-{uuid.uuid4().hex[:6]}", "bytes-quiet-harbor-71"
    async with engine.connect() as conn:
        await users_service.create_user(conn, username=username, password=password)
    await engine.dispose()
    return username, password


def bundle() -> str:
    result = subprocess.run(
        [
            "npx",
            "--no-install",
            "esbuild",
            "packages/workshop-data-react/src/index.ts",
            "--bundle",
            "--format=iife",
            "--global-name=WorkshopData",
            "--define:process.env.NODE_ENV='production'",
        ],
        cwd=WEB,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


async def _api(page: Page, method: str, path: str, body: Any, content_type: str) -> Any:
    return await page.evaluate(
        """async ({ method, path, body, contentType }) => {
            const payload = contentType === 'application/json' ? JSON.stringify(body)
              : Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
            const headers = { 'Content-Type': contentType };
            const response = await fetch(path, { method, body: payload, headers });
            return { status: response.status, body: await response.json() };
        }""",
        {"method": method, "path": path, "body": body, "contentType": content_type},
    )


async def _put_step(page: Page, step: str, data: dict[str, Any]) -> None:
    workshop, step_id = step.split("/")
    answer = await _api(
        page,
        "POST",
        "/api/workshop-data/step",
        {"workshopType": workshop, "stepId": step_id, "data": data},
        "application/json",
    )
    if answer["status"] != 200:
        raise AssertionError(f"seeding {step} failed: {answer}")


async def measure(server: ServerProcess, username: str, password: str) -> list[dict[str, Any]]:
    image = noisy_png(600, 560)  # about 1 MB
    image_b64 = base64.b64encode(image).decode()
    reflection = "A long reflection. " * (200 * 1024 // 19)
    rows: list[dict[str, Any]] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = await browser.new_page()
        await page.goto(f"{server.url}/healthz")
        login = await _api(
            page,
            "POST",
            "/api/auth/login",
            {"username": username, "password": password},
            "application/json",
        )
        assert login["status"] == 200, login
        await page.add_script_tag(content=bundle())
        upload = await _api(page, "POST", "/api/uploads", image_b64, "image/png")
        assert upload["status"] in (200, 201), upload
        ia33 = {"selectedImage": None, "uploadedImage": None, "reflection": "", "imageTitle": ""}
        ia34 = {"whyReflection": "", "howReflection": "", "whatReflection": "", "nextStep": ""}
        scenarios = [
            (
                "IA 3-3, 1 MB image as a data URL in the step",
                "ia/ia-3-3",
                ia33,
                {**ia33, "uploadedImage": f"data:image/png;base64,{image_b64}"},
                "imageTitle",
            ),
            (
                "IA 3-3, 1 MB image uploaded (/api/uploads/…)",
                "ia/ia-3-3",
                ia33,
                {**ia33, "uploadedImage": upload["body"]["upload"]["url"]},
                "imageTitle",
            ),
            (
                "IA 3-4, 200 KB reflection",
                "ia/ia-3-4",
                ia34,
                {**ia34, "whyReflection": reflection},
                "nextStep",
            ),
            (
                "IA 3-4, typing into the 200 KB reflection itself",
                "ia/ia-3-4",
                ia34,
                {**ia34, "whyReflection": reflection},
                "whyReflection",
            ),
        ]
        for label, step, initial, stored, field in scenarios:
            for partial in (False, True):
                await _put_step(page, step, {**stored, field: stored[field] or ""})
                result = await page.evaluate(
                    TYPE_INTO_STEP,
                    {
                        "step": step,
                        "initial": initial,
                        "field": field,
                        "partialSaves": partial,
                        "keystrokes": KEYSTROKES,
                    },
                )
                sizes: list[int] = result["sizes"]
                assert len(sizes) == KEYSTROKES, result
                rows.append(
                    {
                        "scenario": label,
                        "mode": "merge patch (PATCH)" if partial else "full save (POST)",
                        "methods": sorted(set(result["methods"])),
                        "median": statistics.median(sizes),
                        "max": max(sizes),
                    }
                )
        await browser.close()
    return rows


def _size(n: float) -> str:
    return f"{n:,.0f} B" if n < 10_000 else f"{n / 1024:,.0f} KiB"


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bytes.db'}"
        username, password = asyncio.run(_make_user(url))
        with ServerProcess(url) as server:
            rows = asyncio.run(measure(server, username, password))
    print(f"### Bytes per keystroke-save ({KEYSTROKES} keystrokes, one save each)\n")
    print("| document | saves as | request body, median | largest |")
    print("| --- | --- | ---: | ---: |")
    for row in rows:
        print(
            f"| {row['scenario']} | {row['mode']} | {_size(row['median'])} | {_size(row['max'])} |"
        )
    patched = [
        row
        for row in rows
        if row["mode"].startswith("merge") and not row["scenario"].endswith("itself")
    ]
    worst = max(row["max"] for row in patched)
    verdict = "met" if worst <= TARGET_BYTES else "MISSED"
    print(
        f"\nTarget ≤ {TARGET_BYTES} B per keystroke-save with patches (typing into a small"
        f" field): {verdict} (largest {worst} B)."
    )


if __name__ == "__main__":
    main()
