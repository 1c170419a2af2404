"""What the browser tests and the browser benchmarks share: where Chromium is and how it
starts, the accounts the `new_user` fixture makes, and screenshots."""

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Page

from tests.support import REPO_ROOT, Account

CHROMIUM = Path(os.environ.get("WORKSHOP_DATA_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("WORKSHOP_DATA_REQUIRE_BROWSER") == "1"
ARTIFACTS = REPO_ROOT / "test-artifacts"
# What this machine's Chromium needs to start headless as root with no network but loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

NewUser = Callable[[], Awaitable[Account]]


async def screenshot(page: Page, name: str) -> None:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


DOC_IMAGES = REPO_ROOT / "docs" / "images"


async def doc_screenshot(page: Page, name: str) -> None:
    """A screenshot for the documentation (docs/app.md shows docs/images/*.png)."""
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(DOC_IMAGES / f"{name}.png"))
    await screenshot(page, name)
