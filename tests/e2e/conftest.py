"""A real server process with the built web app, and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium these tests are skipped, or fail when
WORKSHOP_DATA_REQUIRE_BROWSER=1. The web app must be built (`make test` builds it)."""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import Account
from tests.server_process import ServerProcess
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

CHROMIUM = Path(os.environ.get("WORKSHOP_DATA_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("WORKSHOP_DATA_REQUIRE_BROWSER") == "1"
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
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

pytestmark = pytest.mark.e2e

NewUser = Callable[[], Awaitable[Account]]
SignedInPage = Callable[..., Awaitable[Page]]


def _require(condition: bool, message: str) -> None:
    if condition:
        return
    if REQUIRE_BROWSER:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
async def e2e_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"
    engine = create_engine(Settings(database_url=url))
    await upgrade_to_head(engine)
    await engine.dispose()
    return url


@pytest.fixture(scope="session")
def browser_available() -> None:
    _require(CHROMIUM.exists(), f"no browser at {CHROMIUM} (apt-get install chromium)")
    _require(
        (REPO / "web" / "dist" / "index.html").exists(),
        "the web app is not built (cd web && npm run build)",
    )


@pytest.fixture(scope="session")
async def e2e_server(
    browser_available: None, e2e_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerProcess]:
    log = tmp_path_factory.mktemp("e2e-log") / "server.log"
    server = ServerProcess(e2e_database, log_path=log)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


@pytest.fixture(scope="session")
async def browser(e2e_server: ServerProcess) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def new_user(e2e_database: str) -> NewUser:
    async def make() -> Account:
        username = f"e2e-{uuid.uuid4().hex[:8]}"
        password = f"{username}-quiet-harbor-71"
        engine = create_engine(Settings(database_url=e2e_database))
        async with engine.connect() as conn:
            user = await users_service.create_user(
                conn, username=username, password=password, name="E2E Participant"
            )
        await engine.dispose()
        return Account(user.id, username, password, "participant")

    return make


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1024, "height": 800})
    yield ctx
    await ctx.close()


async def screenshot(page: Page, name: str) -> None:
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


DOC_IMAGES = REPO / "docs" / "images"


async def doc_screenshot(page: Page, name: str) -> None:
    """A screenshot for the documentation (docs/app.md shows docs/images/*.png)."""
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(DOC_IMAGES / f"{name}.png"))
    await screenshot(page, name)


@pytest.fixture
async def browser_context_phone(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A 375 px wide phone screen."""
    ctx = await browser.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    yield ctx
    await ctx.close()
