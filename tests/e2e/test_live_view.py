"""Facilitators and administrators in Chromium against a real server: a facilitator lands on
the live view and sees a participant's save without reloading (on a laptop and on a phone);
a participant's second browser shows what the first typed while the step is open; an
administrator creates a user and resets a password from the page."""

import uuid

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.support import doc_screenshot
from tests.e2e.test_workshop_pages import SAVED, save_state, sign_in
from tests.server_process import ServerProcess
from tests.support import Account
from workshop_data.db.engine import create_engine
from workshop_data.settings import Settings
from workshop_data.users import service as users_service

WHY = "Why is this important to you?"


async def make_user(
    database: str, role: str, facilitator: Account | None = None, name: str = ""
) -> Account:
    username = f"e2e-{role[:4]}-{uuid.uuid4().hex[:6]}"
    password = f"{username}-quiet-harbor-71"
    engine = create_engine(Settings(database_url=database))
    async with engine.connect() as conn:
        user = await users_service.create_user(
            conn,
            username=username,
            password=password,
            role=role,
            name=name or f"E2E {role}",
            facilitator_id=facilitator.id if facilitator else None,
        )
    await engine.dispose()
    return Account(user.id, username, password, role)


async def sign_in_home(page: Page, server: ServerProcess, account: Account) -> None:
    await page.goto(f"{server.url}/")
    await page.get_by_label("Username or email").fill(account.username)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Username or email")).to_have_count(0)


def cell(page: Page, account: Account, step_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-user="{account.username}"] td[data-step="{step_id}"]')


async def save_over_http(server: ServerProcess, account: Account, step_id: str, text: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        saved = await client.post(
            "/api/workshop-data/step",
            json={"workshopType": "ia", "stepId": step_id, "data": {"whyReflection": text}},
        )
        assert saved.status_code == 200, saved.text


async def test_facilitator_sees_a_participant_save_live_without_reload(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, e2e_database: str
) -> None:
    fran = await make_user(e2e_database, "facilitator", name="Fran Facilitator")
    maria = await make_user(e2e_database, "participant", fran, name="Maria Lopez")
    idle = await make_user(e2e_database, "participant", fran, name="Ivo Idle")
    stranger = await make_user(e2e_database, "participant", name="Not Frans")
    await save_over_http(e2e_server, idle, "ia-3-2", "Started long ago")

    page = await context.new_page()
    await sign_in_home(page, e2e_server, fran)
    # A facilitator's home is the live view, not a participant's workshop.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Live view")
    await page.get_by_role("link", name="Imaginal Agility").click()
    grid = page.get_by_test_id("progress-grid")
    await expect(grid.locator(f'tr[data-user="{maria.username}"]')).to_be_visible()
    await expect(grid.locator(f'tr[data-user="{stranger.username}"]')).to_have_count(0)
    await expect(cell(page, maria, "ia-3-4")).to_have_attribute("data-state", "not-started")
    # Ivo has done something and nothing since; with the threshold at its lowest he needs help.
    await page.get_by_label("Minutes without activity").fill("1")

    # Maria types on her own device; the facilitator's page follows without a reload.
    participant_context = await browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        participant = await participant_context.new_page()
        await sign_in(participant, e2e_server, maria, "ia/ia-3-4")
        await participant.get_by_label(WHY).fill("Because my team matters.")
        await expect(save_state(participant)).to_have_text(SAVED, timeout=10_000)
        await expect(cell(page, maria, "ia-3-4")).to_have_attribute(
            "data-state", "in-progress", timeout=5_000
        )
    finally:
        await participant_context.close()

    # Her answers, read-only, on click.
    await grid.get_by_role("button", name="Maria Lopez").click()
    answers = page.get_by_test_id("participant-answers")
    await expect(answers).to_contain_text("Because my team matters.")
    await expect(answers.locator("textarea, input")).to_have_count(0)

    # Her browser reports work it holds that the server does not have: the grid says so.
    async with httpx.AsyncClient(base_url=e2e_server.url) as client:
        login = await client.post(
            "/api/auth/login", json={"username": maria.username, "password": maria.password}
        )
        assert login.status_code == 200
        reported = await client.post("/api/events/presence", json={"pending": 3})
        assert reported.status_code == 204, reported.text
    unsent = grid.locator(f'tr[data-user="{maria.username}"]').get_by_test_id("unsent")
    await expect(unsent).to_contain_text("3 changes not yet saved on their device, last seen")
    await doc_screenshot(page, "facilitator-live-view")


async def test_facilitator_view_on_a_phone(
    browser_context_phone: BrowserContext, e2e_server: ServerProcess, e2e_database: str
) -> None:
    fran = await make_user(e2e_database, "facilitator", name="Fran Phone")
    for name in ("Ana Long-Name Participant", "Ben"):
        someone = await make_user(e2e_database, "participant", fran, name=name)
        await save_over_http(e2e_server, someone, "ia-3-4", "x")
    page = await browser_context_phone.new_page()
    await sign_in_home(page, e2e_server, fran)
    await page.get_by_role("link", name="Imaginal Agility").click()
    grid = page.get_by_test_id("progress-grid")
    await expect(grid.locator("tbody tr")).to_have_count(2)
    # The page itself does not scroll sideways; the grid scrolls inside its own box.
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    scroll = page.locator(".grid-scroll")
    assert await scroll.evaluate("(el) => el.scrollWidth > el.clientWidth")
    await doc_screenshot(page, "facilitator-phone")


async def test_admin_creates_a_user_and_resets_a_password(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, e2e_database: str
) -> None:
    root = await make_user(e2e_database, "admin", name="Ada Admin")
    page = await context.new_page()
    await sign_in_home(page, e2e_server, root)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Administration")
    await expect(page.get_by_role("link", name="Live view")).to_be_visible()

    username = f"e2e-new-{uuid.uuid4().hex[:6]}"
    form = page.locator("form.admin-form")
    await form.get_by_label("Username", exact=True).fill(username)
    await form.get_by_label("Name", exact=True).fill("Sam Created")
    await form.get_by_label("Password", exact=True).fill("first-quiet-harbor-71")
    await form.get_by_role("button", name="Create user").click()
    await expect(form.get_by_role("status")).to_contain_text(f"Created {username}")

    manage = page.get_by_test_id("manage-user")
    await expect(manage.get_by_role("heading")).to_contain_text(username)
    await manage.get_by_label("New password").fill("second-quiet-harbor-82")
    await manage.get_by_role("button", name="Reset password").click()
    await expect(page.get_by_test_id("manage-message")).to_contain_text("New password set")
    await page.evaluate("window.scrollTo(0, 0)")
    await doc_screenshot(page, "admin")

    async with httpx.AsyncClient(base_url=e2e_server.url) as client:
        old = await client.post(
            "/api/auth/login", json={"username": username, "password": "first-quiet-harbor-71"}
        )
        assert old.status_code == 401
        new = await client.post(
            "/api/auth/login", json={"username": username, "password": "second-quiet-harbor-82"}
        )
        assert new.status_code == 200

    # Deleting asks first, naming who and what goes.
    await manage.get_by_role("button", name="Delete…").click()
    await expect(manage.get_by_role("alertdialog")).to_contain_text(username)
    await expect(manage.get_by_role("alertdialog")).to_contain_text("every workshop answer")
    await manage.get_by_role("button", name=f"Delete {username}").click()
    await expect(page.get_by_role("status").first).to_be_visible()
    await expect(page.locator(f'table.users tr[data-user="{username}"]')).to_have_count(0)


async def test_second_browser_shows_the_first_ones_text_while_the_step_is_open(
    browser: Browser, e2e_server: ServerProcess, e2e_database: str
) -> None:
    maria = await make_user(e2e_database, "participant", name="Maria Two Devices")
    phone_context = await browser.new_context(viewport={"width": 375, "height": 800})
    laptop_context = await browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        phone = await phone_context.new_page()
        laptop = await laptop_context.new_page()
        await sign_in(phone, e2e_server, maria, "ia/ia-3-4")
        await sign_in(laptop, e2e_server, maria, "ia/ia-3-4")
        for page in (phone, laptop):
            await expect(page.get_by_label(WHY)).to_have_value("")
        await phone.get_by_label(WHY).fill("Written on the phone.")
        await expect(save_state(phone)).to_have_text(SAVED, timeout=10_000)
        # The laptop, untouched and not reloaded, shows it: the stream told it of the save.
        await expect(laptop.get_by_label(WHY)).to_have_value("Written on the phone.", timeout=5_000)
        # And the other way round, while the laptop keeps its own words too.
        await laptop.get_by_label(WHY).fill("Written on the phone. And the laptop.")
        await expect(save_state(laptop)).to_have_text(SAVED, timeout=10_000)
        await expect(phone.get_by_label(WHY)).to_have_value(
            "Written on the phone. And the laptop.", timeout=5_000
        )
    finally:
        await phone_context.close()
        await laptop_context.close()
