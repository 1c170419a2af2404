"""A real server process with the built web app, and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium these tests are skipped, or fail when
WORKSHOP_DATA_REQUIRE_BROWSER=1. The web app must be built (`make test` builds it)."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, REQUIRE_BROWSER, NewUser
from tests.server_process import ServerProcess
from tests.support import REPO_ROOT, Account
from workshop_data.db.engine import create_engine
from workshop_data.db.migrate import upgrade_to_head
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

pytestmark = pytest.mark.e2e


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
        (REPO_ROOT / "web" / "dist" / "index.html").exists(),
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
