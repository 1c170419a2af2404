"""Sign-out on a shared computer: whether or not the logout request reaches the server, nobody
using that browser can act as the participant afterwards. The page deletes the session's
device cookie first (the server accepts the session cookie only with it), then asks the
server to revoke the session."""

import httpx
from playwright.async_api import BrowserContext, Dialog, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_workshop_pages import OFFLINE, SAVED, save_state, sign_in
from tests.server_process import ServerProcess

WHY = "Why is this important to you?"


def _accept_any_warning(page: Page, seen: list[str]) -> None:
    async def accept(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)


async def _session_cookies(context: BrowserContext) -> dict[str, str]:
    return {
        cookie["name"]: cookie["value"]
        for cookie in await context.cookies()
        if cookie["name"] in ("wd_session", "wd_session_device")
    }


async def _me(server: ServerProcess, cookies: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=server.url, cookies=cookies) as client:
        return (await client.get("/api/auth/me")).status_code


async def test_signing_out_offline_ends_the_session_on_this_browser(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await expect(save_state(page)).not_to_have_text("Loading…")
    before = await _session_cookies(context)
    assert set(before) == {"wd_session", "wd_session_device"}
    assert await _me(e2e_server, before) == 200

    await context.set_offline(True)
    await page.get_by_label(WHY).fill("Typed offline on the shared computer")
    await expect(save_state(page)).to_have_text(OFFLINE, timeout=20_000)
    warnings: list[str] = []
    _accept_any_warning(page, warnings)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Password")).to_be_visible()
    assert warnings, "the unsaved change was warned about"
    # The logout request could not leave; the device cookie is gone all the same.
    after = await _session_cookies(context)
    assert "wd_session_device" not in after
    await screenshot(page, "sign-out-offline")

    await context.set_offline(False)
    await page.reload()
    await expect(page.get_by_label("Password")).to_be_visible(timeout=10_000)
    await expect(page.get_by_label("Username or email")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # What the browser still holds opens nothing: the old session cookie alone is 401.
    leftover = await _session_cookies(context)
    assert "wd_session_device" not in leftover
    assert await _me(e2e_server, {"wd_session": before["wd_session"]}) == 401
    assert await _me(e2e_server, leftover) == 401


async def test_signing_out_online_also_revokes_the_session_on_the_server(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label(WHY).fill("Saved before signing out")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    before = await _session_cookies(context)
    warnings: list[str] = []
    _accept_any_warning(page, warnings)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Password")).to_be_visible()
    assert warnings == []
    assert await _session_cookies(context) == {}
    # Even a copy of both cookies taken before the sign-out is worthless now.
    assert await _me(e2e_server, before) == 401
