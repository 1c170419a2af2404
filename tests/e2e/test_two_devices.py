"""One participant on two devices, and a session that ends mid-sentence, in Chromium against a
real server: two devices typing into the same field at once both keep their words, and what is
typed as the session ends is kept on the device and saved once the person has signed in again,
without leaving the page."""

import asyncio
from typing import Any

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_hook_states import journal_keys
from tests.e2e.test_workshop_pages import SAVED, save_state, server_copy, sign_in
from tests.server_process import ServerProcess

WHY = "Why is this important to you?"
PHONE = "I wrote this on the bus."
LAPTOP = "My team needs a calmer week."


async def journal_entry(page: Page, key: str) -> Any:
    return await page.evaluate(
        """(key) => new Promise((resolve, reject) => {
            const open = indexedDB.open('workshop-data-journal');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const db = open.result;
              const read = db.transaction('entries').objectStore('entries').get(key);
              read.onsuccess = () => { db.close(); resolve(read.result ?? null); };
              read.onerror = () => reject(read.error);
            };
          })""",
        key,
    )


async def test_two_devices_typing_into_the_same_field_keep_both_sentences(
    browser: Browser, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    phone_context = await browser.new_context(viewport={"width": 375, "height": 800})
    laptop_context = await browser.new_context(viewport={"width": 1024, "height": 800})
    try:
        phone = await phone_context.new_page()
        laptop = await laptop_context.new_page()
        await sign_in(phone, e2e_server, account, "ia/ia-3-4")
        await sign_in(laptop, e2e_server, account, "ia/ia-3-4")
        for page in (phone, laptop):
            await expect(page.get_by_label(WHY)).to_have_value("")

        # Both type into the same empty field within one debounce window: neither page has
        # seen the other's words when it saves, so one of the saves meets a 409.
        await asyncio.gather(
            phone.get_by_label(WHY).press_sequentially(PHONE, delay=5),
            laptop.get_by_label(WHY).press_sequentially(LAPTOP, delay=5),
        )
        for page in (phone, laptop):
            await expect(save_state(page)).to_have_text(SAVED, timeout=15_000)
        # The page whose save met the other's says so, naming the field.
        notes = [page.get_by_test_id("conflict-note") for page in (phone, laptop)]
        shown = [await note.count() for note in notes]
        assert sorted(shown) == [0, 1], shown
        note = notes[shown.index(1)]
        await expect(note).to_contain_text(WHY)  # the field by its label, not its id
        await expect(note).not_to_contain_text("whyReflection")
        await expect(note).to_contain_text("the other one first, then yours after a blank line")

        stored = await server_copy(e2e_server, account, "ia/ia-3-4")
        why = stored["data"]["whyReflection"]  # type: ignore[index]
        assert PHONE in why and LAPTOP in why, why
        # Both sentences whole, one after the other with a blank line between, nothing else.
        assert why in (f"{PHONE}\n\n{LAPTOP}", f"{LAPTOP}\n\n{PHONE}"), why
        for page in (phone, laptop):
            await page.reload()
            await expect(page.get_by_label(WHY)).to_have_value(why)
        await screenshot(laptop, "ia-3-4-two-devices-merged")
    finally:
        await phone_context.close()
        await laptop_context.close()


async def end_session_elsewhere(context: BrowserContext, server: ServerProcess) -> None:
    """End the page's session on the server (as signing out elsewhere, or expiry, does), the
    cookie staying in the browser."""
    cookies = {c["name"]: c["value"] for c in await context.cookies() if "name" in c}
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Origin": server.url}, cookies=cookies
    ) as client:
        ended = await client.post("/api/auth/logout")
        assert ended.status_code in (200, 204), ended.text
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_typing_through_the_end_of_a_session_loses_nothing(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label(WHY)
    await why.press_sequentially("Before the end. ")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)

    await why.press_sequentially("In the middle ")
    await end_session_elsewhere(context, e2e_server)
    await why.press_sequentially("of a sentence")
    dialog = page.get_by_test_id("sign-in-again")
    await expect(dialog).to_be_visible(timeout=10_000)
    await expect(save_state(page)).to_have_attribute("data-status", "signed-out")
    typed = "Before the end. In the middle of a sentence"
    await expect(why).to_have_value(typed)
    key = f"workshop-data:journal:{account.id}:ia:ia-3-4"
    assert await journal_keys(page) == [key]
    entry = await journal_entry(page, key)
    assert entry["data"]["whyReflection"] == typed  # every keystroke is on the device

    await dialog.get_by_label("Username or email").fill(account.username)
    await dialog.get_by_label("Password").fill(account.password)
    await dialog.get_by_role("button", name="Sign in").click()
    await expect(dialog).to_have_count(0)
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await expect(why).to_have_value(typed)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["data"]["whyReflection"] == typed  # type: ignore[index]
    assert await journal_keys(page) == []
