"""The web app in a real Chromium against a real server process: nothing typed is lost."""

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from playwright.async_api import BrowserContext, Page, Route, expect

from tests.e2e.support import NewUser, screenshot
from tests.server_process import ServerProcess
from tests.support import Account

SAVED = "All changes saved"
OFFLINE = "Offline — kept on this device"
# A 2x2 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="
)


async def sign_in(page: Page, server: ServerProcess, account: Account, step: str) -> None:
    await page.goto(f"{server.url}/#/{step}")
    await page.get_by_label("Username or email").fill(account.username)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_label("Password")).to_have_count(0)
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


async def open_step(page: Page, server: ServerProcess, step: str) -> None:
    """Open a step (`ia/ia-3-4`) or a workshop's overview (`ia`)."""
    await page.goto(f"{server.url}/#/{step}")
    if "/" in step:
        await expect(page.get_by_test_id("save-state")).not_to_have_text("Loading…")
    else:
        await expect(page.get_by_role("heading", level=1)).to_be_visible()


@asynccontextmanager
async def signed_in_client(
    server: ServerProcess, account: Account
) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": server.url}) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        yield client


async def complete_every_required_step(
    server: ServerProcess, account: Account, workshop: str, *, except_steps: tuple[str, ...] = ()
) -> None:
    """Report every required step of `workshop` completed (as the app does step by step)."""
    async with signed_in_client(server, account) as client:
        catalog = (await client.get("/api/catalog")).json()["workshops"]
        steps = [
            step["id"]
            for w in catalog
            if w["type"] == workshop
            for section in w["sections"]
            for step in section["steps"]
            if step["required"] and step["id"] not in except_steps
        ]
        response = await client.put(
            f"/api/navigation-progress/{workshop}", json={"completedSteps": steps}
        )
        assert response.status_code == 200, response.text


async def navigation_progress(
    server: ServerProcess, account: Account, workshop: str
) -> dict[str, object]:
    async with signed_in_client(server, account) as client:
        body: dict[str, object] = (await client.get(f"/api/navigation-progress/{workshop}")).json()
        return body


def save_state(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("save-state")


async def server_copy(server: ServerProcess, account: Account, step: str) -> dict[str, object]:
    workshop, step_id = step.split("/")
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        response = await client.get(f"/api/workshop-data/step/{workshop}/{step_id}")
        body: dict[str, object] = response.json()
        return body


async def test_typed_text_survives_a_reload(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label("Why is this important to you?").fill("Because my team deserves it")
    await page.get_by_label("What's your next step?").fill("Book a retro")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await screenshot(page, "ia-3-4-reflection")
    await page.reload()
    await expect(page.get_by_label("Why is this important to you?")).to_have_value(
        "Because my team deserves it"
    )
    await expect(page.get_by_label("What's your next step?")).to_have_value("Book a retro")
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == "Because my team deserves it"  # type: ignore[index]


async def test_a_cleared_field_stays_empty(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label("Why is this important to you?")
    await why.fill("Soon to be deleted")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await why.fill("")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await page.reload()
    await expect(page.get_by_label("How will you approach this?")).to_be_visible()
    await expect(why).to_have_value("")
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == ""  # type: ignore[index]


async def test_text_typed_just_before_closing_the_page_is_kept(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label("How will you approach this?").fill("Typed, then the tab closed")
    await page.wait_for_timeout(300)
    await page.close(run_before_unload=True)

    reopened = await context.new_page()
    await open_step(reopened, e2e_server, "ia/ia-3-4")
    await expect(reopened.get_by_label("How will you approach this?")).to_have_value(
        "Typed, then the tab closed"
    )
    await expect(save_state(reopened)).to_have_text(SAVED, timeout=10_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["howReflection"] == "Typed, then the tab closed"  # type: ignore[index]


async def test_offline_typing_is_shown_after_an_offline_reload_and_reaches_the_server(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    # The service worker keeps the app shell, so the page reloads with no network at all.
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)

    await context.set_offline(True)
    await page.get_by_label("What do you envision?").fill("Written with no network")
    await expect(save_state(page)).to_have_text(OFFLINE, timeout=10_000)
    await page.reload()
    await expect(page.get_by_label("What do you envision?")).to_have_value(
        "Written with no network", timeout=10_000
    )
    await expect(save_state(page)).to_have_text(OFFLINE)
    await screenshot(page, "ia-3-4-offline")

    await context.set_offline(False)
    await expect(save_state(page)).to_have_text(SAVED, timeout=15_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whatReflection"] == "Written with no network"  # type: ignore[index]


async def test_typing_while_the_server_is_unreachable_is_kept_and_sent_later(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    """The browser is online but every API request fails at the network level."""
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")

    async def cut(route: Route) -> None:
        await route.abort("internetdisconnected")

    await context.route("**/api/**", cut)
    await page.get_by_label("What do you envision?").fill("Written with no network")
    await expect(save_state(page)).to_have_text(OFFLINE, timeout=10_000)
    await page.reload()
    await expect(page.get_by_label("What do you envision?")).to_have_value(
        "Written with no network", timeout=10_000
    )
    await expect(save_state(page)).to_have_text(OFFLINE)

    await context.unroute("**/api/**", cut)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(save_state(page)).to_have_text(SAVED, timeout=15_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whatReflection"] == "Written with no network"  # type: ignore[index]


async def test_two_pages_editing_different_fields_keep_both(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    first = await context.new_page()
    await sign_in(first, e2e_server, account, "ia/ia-3-4")
    second = await context.new_page()
    await open_step(second, e2e_server, "ia/ia-3-4")

    await asyncio.gather(
        first.get_by_label("Why is this important to you?").fill("From the first page"),
        second.get_by_label("How will you approach this?").fill("From the second page"),
    )
    await expect(save_state(first)).to_have_text(SAVED, timeout=15_000)
    await expect(save_state(second)).to_have_text(SAVED, timeout=15_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == "From the first page"  # type: ignore[index]
    assert stored["data"]["howReflection"] == "From the second page"  # type: ignore[index]
    await first.reload()
    await expect(first.get_by_label("How will you approach this?")).to_have_value(
        "From the second page"
    )


async def test_save_lands_once_after_three_server_errors(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    failures = 0
    reached = 0

    async def flaky(route: Route) -> None:
        nonlocal failures, reached
        if route.request.method != "POST":
            await route.continue_()
            return
        if failures < 3:
            failures += 1
            await route.fulfill(
                status=500,
                content_type="application/json",
                body='{"success": false, "error": "Failed.", "code": "internal_error"}',
            )
            return
        reached += 1
        await route.continue_()

    await page.route("**/api/workshop-data/step", flaky)
    await page.get_by_label("Why is this important to you?").fill("Worth retrying")
    await expect(save_state(page)).to_have_text(SAVED, timeout=30_000)
    assert failures == 3
    assert reached == 1
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["version"] == 1
    assert stored["data"]["whyReflection"] == "Worth retrying"  # type: ignore[index]


async def test_completed_workshop_is_read_only(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label("Why is this important to you?").fill("Final answer")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await complete_every_required_step(e2e_server, account, "ia")
    await open_step(page, e2e_server, "ia")
    await page.get_by_role("button", name="Complete workshop").click()
    await page.get_by_role("dialog").get_by_role("button", name="Complete and lock").click()
    await expect(page.get_by_test_id("workshop-completed")).to_be_visible()
    await open_step(page, e2e_server, "ia/ia-3-4")
    why = page.get_by_label("Why is this important to you?")
    await expect(why).to_have_attribute("readonly", "")
    await page.reload()
    await expect(why).to_have_value("Final answer")
    await expect(why).to_have_attribute("readonly", "")
    await screenshot(page, "ia-3-4-completed")
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == "Final answer"  # type: ignore[index]


async def test_uploaded_image_survives_a_reload(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.get_by_label("Or upload an image").set_input_files(
        {"name": "vision.png", "mimeType": "image/png", "buffer": PNG}
    )
    # Uploaded out of line: the step refers to the upload by its URL.
    chosen = page.get_by_test_id("chosen-image")
    await expect(chosen).to_have_attribute("src", re.compile(r"^/api/uploads/"), timeout=10_000)
    await page.get_by_label("Image title").fill("Breakthrough")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    url = await chosen.get_attribute("src")
    await page.reload()
    await expect(chosen).to_have_attribute("src", url or "")
    await expect(page.get_by_label("Image title")).to_have_value("Breakthrough")
    assert await chosen.evaluate("(img) => img.complete && img.naturalWidth") == 2
    stored = await server_copy(e2e_server, account, "ia/ia-3-3")
    assert stored["data"]["uploadedImage"] == url  # type: ignore[index]
    await screenshot(page, "ia-3-3-vision-image")


async def test_every_example_step_page_renders(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-2")
    await page.get_by_label("A moment").fill("A childhood memory")
    await page.get_by_label("Tag").select_option("Memory")
    await page.get_by_role("button", name="Save Moment").click()
    await expect(page.get_by_test_id("saved-moments")).to_contain_text("A childhood memory")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await screenshot(page, "ia-3-2-moments")

    await open_step(page, e2e_server, "ast/2-1")
    await page.get_by_label("Feeling").check()
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await screenshot(page, "ast-2-1-star-power")

    await open_step(page, e2e_server, "ast/3-2")
    await page.get_by_label("A goal").fill("Ship the pilot")
    await page.get_by_role("button", name="Add goal").click()
    await page.get_by_label("Timeline", exact=True).fill("Q3 2026")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await screenshot(page, "ast-3-2-goals")

    await open_step(page, e2e_server, "ia/ia-4-2")
    await page.get_by_label("Your reflection").fill("A generic step")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await page.set_viewport_size({"width": 375, "height": 740})
    await screenshot(page, "ia-4-2-generic-phone")

    moments = await server_copy(e2e_server, account, "ia/ia-3-2")
    saved_moments = moments["data"]["savedMoments"]  # type: ignore[index]
    assert isinstance(saved_moments[0].pop("id"), str)  # each saved moment gets its own id
    assert moments["data"] == {
        "savedMoments": [{"text": "A childhood memory", "tag": "Memory"}],
        "currentMomentText": "",
        "currentSelectedTag": "",
    }
    goals = await server_copy(e2e_server, account, "ast/3-2")
    assert goals["data"] == {"goals": ["Ship the pilot"], "timeline": "Q3 2026", "currentGoal": ""}
    star = await server_copy(e2e_server, account, "ast/2-1")
    assert star["data"] == {"starPower": "Feeling", "reflection": ""}
