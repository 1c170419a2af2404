"""What the hook says about a step, in Chromium against a real server: a completed workshop is
read-only from the load on, a change refused because it was completed meanwhile is taken off the
page and the device and shown once, and a session that ended sends what is pending as soon as
the same person has signed in again, without reloading the page."""

from playwright.async_api import BrowserContext, Dialog, Page, Request, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_workshop_pages import (
    SAVED,
    complete_every_required_step,
    save_state,
    server_copy,
    sign_in,
    signed_in_client,
)
from tests.server_process import ServerProcess
from tests.support import Account

WHY = "Why is this important to you?"
STEP_API = "/api/workshop-data/step"


async def complete_elsewhere(server: ServerProcess, account: Account, workshop: str) -> None:
    """Complete the workshop as another device of the same participant would."""
    await complete_every_required_step(server, account, workshop)
    async with signed_in_client(server, account) as client:
        completed = await client.post(f"/api/workshop-data/complete/{workshop}")
        assert completed.status_code == 200, completed.text


def record_saves(page: Page) -> list[str]:
    saves: list[str] = []

    def seen(request: Request) -> None:
        if STEP_API in request.url and request.method in ("POST", "PATCH"):
            saves.append(request.method)

    page.on("request", seen)
    return saves


async def journal_keys(page: Page) -> list[str]:
    keys: list[str] = await page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open('workshop-data-journal');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const db = open.result;
              if (!db.objectStoreNames.contains('entries')) { db.close(); resolve([]); return; }
              const all = db.transaction('entries').objectStore('entries').getAllKeys();
              all.onsuccess = () => { db.close(); resolve(all.result.map(String)); };
              all.onerror = () => reject(all.error);
            };
          })"""
    )
    return keys


async def test_a_completed_workshop_is_read_only_before_the_first_keystroke(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    async with signed_in_client(e2e_server, account) as client:
        saved = await client.post(
            STEP_API,
            json={"workshopType": "ia", "stepId": "ia-3-4", "data": {"whyReflection": "Final"}},
        )
        assert saved.status_code == 200
    await complete_elsewhere(e2e_server, account, "ia")

    page = await context.new_page()
    # Only the step's own load may tell the page: the workshop status request is refused.
    await page.route("**/api/workshop-data/status/**", lambda route: route.abort())
    saves = record_saves(page)
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label(WHY)
    await expect(why).to_have_value("Final")
    await expect(why).to_have_attribute("readonly", "")
    await expect(save_state(page)).to_have_attribute("data-status", "locked")
    await expect(save_state(page)).to_have_text("Locked")
    await why.press_sequentially(" more", delay=10)
    await page.wait_for_timeout(2500)
    await expect(why).to_have_value("Final")
    assert saves == []


async def test_a_change_refused_after_completion_is_shown_once_and_not_kept(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label(WHY)
    await why.fill("Before completion")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)

    # Completed on another device while this page is open: its next save is refused (423).
    await complete_elsewhere(e2e_server, account, "ia")
    await why.fill("Typed after completion")
    rejected = page.get_by_test_id("rejected-change")
    await expect(rejected).to_contain_text(
        "Your change was not saved because the workshop is completed:", timeout=10_000
    )
    await expect(page.get_by_test_id("rejected-text")).to_have_text("Typed after completion")
    await expect(why).to_have_value("Before completion")  # the server copy
    await expect(why).to_have_attribute("readonly", "")
    await expect(save_state(page)).to_have_text("Locked")
    await screenshot(page, "ia-3-4-refused-after-completion")
    await rejected.get_by_role("button", name="Copy").click()
    await expect(rejected.get_by_role("status")).to_have_text("Copied.")
    assert await page.evaluate("navigator.clipboard.readText()") == "Typed after completion"
    assert await journal_keys(page) == []

    # Not replayed (and refused again) on the next visit, and sign-out has nothing to warn about.
    saves = record_saves(page)
    await page.reload()
    await expect(why).to_have_value("Before completion")
    await page.wait_for_timeout(2000)
    await expect(rejected).to_have_count(0)
    assert saves == []
    confirms: list[str] = []

    async def answer(dialog: Dialog) -> None:
        confirms.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", answer)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Password")).to_be_visible()
    assert confirms == []
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == "Before completion"  # type: ignore[index]


async def test_edits_made_as_the_session_ended_are_sent_after_signing_in_again(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label(WHY)
    await why.fill("Saved while signed in")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)

    await context.clear_cookies()  # the session ends (expired, or signed out elsewhere)
    await why.fill("Typed as the session ended")
    dialog = page.get_by_test_id("sign-in-again")
    await expect(dialog).to_be_visible(timeout=10_000)
    await expect(save_state(page)).to_have_attribute("data-status", "signed-out")
    await expect(save_state(page)).to_have_text("Signed out — not saved yet; sign in again to save")
    keys = await journal_keys(page)
    assert keys == [f"workshop-data:journal:{account.id}:ia:ia-3-4"]  # never "anonymous"
    await screenshot(page, "ia-3-4-sign-in-again")

    loads: list[str] = []
    page.on(
        "request",
        lambda request: (
            loads.append(request.url)
            if request.method == "GET" and STEP_API in request.url
            else None
        ),
    )
    await dialog.get_by_label("Username or email").fill(account.username)
    await dialog.get_by_label("Password").fill(account.password)
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog).to_have_count(0)
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await expect(why).to_have_value("Typed as the session ended")
    assert loads == []  # sent by the page as it was: not reloaded, not remounted
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == "Typed as the session ended"  # type: ignore[index]
    assert await journal_keys(page) == []
