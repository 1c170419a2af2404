"""Merges in Chromium against a real server: two devices that rewrite one answer keep both
sentences whole (and both versions in the history), and a merge that lands while the
participant types leaves the caret where they type, so the typed sentence stays in one piece."""

import asyncio

import httpx
from playwright.async_api import Browser, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_workshop_pages import OFFLINE, SAVED, save_state, server_copy, sign_in
from tests.server_process import ServerProcess
from tests.support import Account

WHY = "Why is this important to you?"
STEP = "ia/ia-3-4"
BASE = "I want to grow as a leader this year."
ONLINE = "My team needs me to be more present."
AWAY = "Honestly, I need a new job where I can learn."


async def history(server: ServerProcess, account: Account) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        response = await client.get(f"/api/workshop-data/step/{STEP}/history")
        assert response.status_code == 200, response.text
        versions: list[dict[str, object]] = response.json()["versions"]
        return versions


async def why_of(server: ServerProcess, account: Account) -> str:
    stored = await server_copy(server, account, STEP)
    data = stored["data"]
    assert isinstance(data, dict)
    text = data["whyReflection"]
    assert isinstance(text, str)
    return text


async def test_two_devices_rewriting_one_answer_keep_both_sentences_whole(
    browser: Browser, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    laptop_context = await browser.new_context(viewport={"width": 1024, "height": 800})
    phone_context = await browser.new_context(viewport={"width": 375, "height": 800})
    try:
        laptop = await laptop_context.new_page()
        phone = await phone_context.new_page()
        await sign_in(laptop, e2e_server, account, STEP)
        await laptop.get_by_label(WHY).fill(BASE)
        await expect(save_state(laptop)).to_have_text(SAVED, timeout=10_000)
        await sign_in(phone, e2e_server, account, STEP)
        await expect(phone.get_by_label(WHY)).to_have_value(BASE)

        # The phone loses the network and rewrites the answer; the laptop rewrites it too.
        await phone_context.set_offline(True)
        await phone.get_by_label(WHY).fill(AWAY)
        await expect(save_state(phone)).to_have_text(OFFLINE, timeout=10_000)
        await laptop.get_by_label(WHY).fill(ONLINE)
        await expect(save_state(laptop)).to_have_text(SAVED, timeout=10_000)

        # Back online, the phone merges: both sentences whole, the laptop's first.
        await phone_context.set_offline(False)
        await expect(save_state(phone)).to_have_text(SAVED, timeout=20_000)
        merged = f"{ONLINE}\n\n{AWAY}"
        assert await why_of(e2e_server, account) == merged
        await expect(phone.get_by_label(WHY)).to_have_value(merged)
        note = phone.get_by_test_id("conflict-note")
        await expect(note).to_contain_text(WHY)
        await expect(note).to_contain_text("the other one first, then yours after a blank line")

        # Each sentence is a version of its own in the history: the laptop's save, and the
        # phone's text as it was before the merge.
        versions = await history(e2e_server, account)
        previews = {(v["source"], v["preview"]) for v in versions}
        assert ("save", ONLINE) in previews, versions
        assert ("device", AWAY) in previews, versions
        assert ("save", BASE) in previews, versions

        # Previous versions shows the phone's text, marked, and restores it.
        panel = phone.get_by_test_id("history")
        await panel.locator("summary").click()
        copy = panel.locator("li[data-source=device]")
        await expect(copy).to_have_count(1)
        await expect(copy).to_contain_text("From a device before merging")
        await expect(copy).to_contain_text(AWAY)
        await screenshot(phone, "merge-two-devices-history")
        await copy.get_by_role("button").click()
        await expect(phone.get_by_test_id("history-message")).to_contain_text(
            "Restored the text from a device before merging"
        )
        await expect(phone.get_by_label(WHY)).to_have_value(AWAY)
        assert await why_of(e2e_server, account) == AWAY
    finally:
        await laptop_context.close()
        await phone_context.close()


async def other_device_writes(server: ServerProcess, account: Account, text: str) -> None:
    """Another device saves `text` as the answer, on the version it loads."""
    async with httpx.AsyncClient(base_url=server.url, headers={"Origin": server.url}) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        loaded = await client.get(f"/api/workshop-data/step/{STEP}")
        saved = await client.patch(
            f"/api/workshop-data/step/{STEP}",
            json={"whyReflection": text},
            headers={
                "Content-Type": "application/merge-patch+json",
                "If-Match": f'"{loaded.json()["version"]}"',
            },
        )
        assert saved.status_code == 200, saved.text


async def caret(page: Page) -> int:
    position = await page.get_by_label(WHY).evaluate("(field) => field.selectionStart")
    assert isinstance(position, int)
    return position


async def test_a_merge_landing_while_typing_keeps_the_typed_sentence_in_one_piece(
    browser: Browser, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    context = await browser.new_context(viewport={"width": 375, "height": 800})
    try:
        page = await context.new_page()
        await sign_in(page, e2e_server, account, STEP)
        field = page.get_by_label(WHY)
        await field.fill("First line.\n\nLast line.")
        await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)

        # Typing at the end of the first line, offline; meanwhile another device adds a word
        # before it and a sentence after it.
        await field.click()
        await field.evaluate("(f) => f.setSelectionRange(11, 11)")
        await context.set_offline(True)
        first, rest = " Typed after a failed load", " and the words go on in one piece."
        await field.press_sequentially(first, delay=10)
        await other_device_writes(
            e2e_server, account, "Note: First line.\n\nLast line. SERVER TEXT"
        )
        before = await caret(page)
        assert before == 11 + len(first)

        # The network returns while the participant goes on typing: the other device's change
        # is merged in between two keystrokes.
        async def back_online() -> None:
            await asyncio.sleep(0.3)
            await context.set_offline(False)

        await asyncio.gather(field.press_sequentially(rest, delay=60), back_online())
        await expect(save_state(page)).to_have_text(SAVED, timeout=20_000)
        typed = f"First line.{first}{rest}"
        expected = f"Note: {typed}\n\nLast line. SERVER TEXT"
        await expect(field).to_have_value(expected)
        assert await why_of(e2e_server, account) == expected
        assert await caret(page) == len(f"Note: {typed}")
        await screenshot(page, "merge-while-typing")
    finally:
        await context.close()
