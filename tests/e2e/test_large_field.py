"""A field holding megabytes of text, in Chromium against a real server: what is typed just
before a reload is not lost, though the journal of so large a step is not written on every
keystroke (docs/client.md, The journal)."""

from playwright.async_api import BrowserContext, expect

from tests.e2e.support import NewUser
from tests.e2e.test_workshop_pages import SAVED, save_state, server_copy, sign_in
from tests.server_process import ServerProcess

WHY = "Why is this important to you?"
TWO_MIB = ("I want to grow as a leader this year. " * 60_000)[: 2 * 1024 * 1024]


async def test_keys_typed_just_before_a_reload_into_two_mib_are_kept(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    field = page.get_by_label(WHY)
    await field.fill(TWO_MIB)
    await expect(save_state(page)).to_have_text(SAVED, timeout=60_000)
    typed = ""
    for round_ in range(3):
        await field.focus()
        await page.keyboard.press("Control+End")
        await page.keyboard.type("A")
        await page.wait_for_timeout(50)  # its journal write has begun; the next waits its turn
        await page.keyboard.type(f"X{round_}Z")
        typed += f"AX{round_}Z"
        await page.reload()  # no keepalive save: the change is over its 60 KiB
        field = page.get_by_label(WHY)
        await expect(save_state(page)).to_have_text(SAVED, timeout=60_000)
        assert (await field.input_value()).endswith(typed)
    body = await server_copy(e2e_server, account, "ia/ia-3-4")
    data = body["data"]
    assert isinstance(data, dict)
    assert data["whyReflection"] == TWO_MIB + typed
