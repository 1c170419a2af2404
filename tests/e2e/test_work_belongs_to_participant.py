"""Work that leaves its page, in Chromium against a real server: an image chosen on IA 3-3
reaches its step whatever page is open when its upload ends (online, or offline then online),
the indicator on every page counts it, sign-out warns about it, a restore right after typing
is based on the version the flush produced, and the overview offline shows the progress this
device knows."""

import asyncio
import re

from playwright.async_api import Browser, BrowserContext, Dialog, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_images_offline import READ_DEVICE, noisy_png
from tests.e2e.test_workshop_pages import (
    SAVED,
    navigation_progress,
    save_state,
    sign_in,
    signed_in_client,
)
from tests.server_process import ServerProcess
from tests.support import Account

UPLOAD_URL = re.compile(r"^/api/uploads/[A-Za-z0-9_-]+$")
WHY = "Why is this important to you?"


def pending_work(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("pending-work")


async def go(page: Page, step: str) -> None:
    """Move within the app (a hash change: the page and its loop stay)."""
    await page.evaluate("(step) => { window.location.hash = `#/${step}`; }", step)


async def uploaded_image_of(server: ServerProcess, account: Account, seconds: float) -> str:
    """The step's `uploadedImage` once it refers to an upload (within `seconds`)."""
    async with signed_in_client(server, account) as client, asyncio.timeout(seconds):
        while True:
            stored = (await client.get("/api/workshop-data/step/ia/ia-3-3")).json()
            data = stored.get("data") or {}
            url = data.get("uploadedImage") if isinstance(data, dict) else None
            if isinstance(url, str) and UPLOAD_URL.match(url):
                return url
            await asyncio.sleep(0.25)


async def seen_from_another_device(
    browser: Browser, server: ServerProcess, account: Account, url: str
) -> None:
    other = await browser.new_context()
    try:
        page = await other.new_page()
        await sign_in(page, server, account, "ia/ia-3-3")
        await expect(page.get_by_test_id("chosen-image")).to_have_attribute("src", url)
    finally:
        await other.close()


async def choose_photo(page: Page) -> None:
    await page.get_by_label("Or upload an image").set_input_files(
        {"name": "vision.png", "mimeType": "image/png", "buffer": noisy_png(900, 900)}
    )


async def test_an_image_chosen_just_before_moving_on_reaches_its_step(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await expect(save_state(page)).to_have_text(SAVED)
    await choose_photo(page)
    await go(page, "ia/ia-3-4")  # before the image is even prepared, let alone uploaded
    await expect(page.get_by_label(WHY)).to_be_visible()

    url = await uploaded_image_of(e2e_server, account, seconds=15)
    await seen_from_another_device(browser, e2e_server, account, url)
    await expect(pending_work(page)).to_have_text(SAVED, timeout=10_000)


async def test_an_image_chosen_offline_reaches_its_step_from_another_page_when_online(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    await context.set_offline(True)
    await choose_photo(page)
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await go(page, "ia/ia-3-4")
    await expect(page.get_by_label(WHY)).to_be_visible()
    # The page-independent indicator counts the image; the step page never says "saved".
    await expect(pending_work(page)).to_contain_text("1 image waiting to upload")
    await expect(save_state(page)).not_to_have_text(SAVED)
    await screenshot(page, "pending-image-on-another-page")
    await go(page, "ia")
    await expect(pending_work(page)).to_contain_text("1 image waiting to upload")

    await context.set_offline(False)
    url = await uploaded_image_of(e2e_server, account, seconds=15)
    await seen_from_another_device(browser, e2e_server, account, url)
    await expect(pending_work(page)).to_have_text(SAVED, timeout=10_000)


async def test_sign_out_warns_about_an_image_waiting_offline_and_cancel_loses_nothing(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    await context.set_offline(True)
    await choose_photo(page)
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await go(page, "ia/ia-3-4")
    await expect(pending_work(page)).to_contain_text("1 image waiting to upload")

    messages: list[str] = []

    async def cancel(dialog: Dialog) -> None:
        messages.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", cancel)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_enabled()
    assert len(messages) == 1, messages
    assert "1 image waiting to upload" in messages[0]
    assert "lost" in messages[0]
    # Still signed in, and the image is still on the device.
    await expect(page.get_by_label("Password")).to_have_count(0)
    device = await page.evaluate(READ_DEVICE)
    assert len(device["blobSizes"]) == 1

    await context.set_offline(False)
    url = await uploaded_image_of(e2e_server, account, seconds=15)
    await seen_from_another_device(browser, e2e_server, account, url)


async def test_restore_right_after_typing_is_based_on_the_version_the_save_produced(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    field = page.get_by_label(WHY)
    for text in ("Version one", "Version two"):
        await field.fill(text)
        await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    history = page.get_by_test_id("history")
    await history.get_by_text("Previous versions").click()
    await expect(history.locator("li[data-version='2']")).to_contain_text("Current")

    # Typed and restored within the save's debounce: the restore saves it first (version 3).
    await field.fill("Version three, typed just now")
    await history.get_by_role("button", name="Restore version 1").click()
    await expect(page.get_by_test_id("history-message")).to_have_text(
        "Restored version 1; it is now version 4.", timeout=10_000
    )
    await expect(field).to_have_value("Version one")
    await history.get_by_text("Previous versions").scroll_into_view_if_needed()
    await expect(history.locator("li[data-version='3']")).to_contain_text(
        "Version three, typed just now"
    )


async def test_the_overview_offline_shows_this_devices_progress_and_corrects_itself_online(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-1-1")
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    await go(page, "ia/ia-1-2")
    await go(page, "ia")
    summary = page.get_by_test_id("overview-summary")
    await expect(summary).to_contain_text("2 of 18 steps done", timeout=10_000)
    for _ in range(100):  # the server has them: the last progress this device knows from it
        stored = await navigation_progress(e2e_server, account, "ia")
        if len(stored["completedSteps"]) == 2:  # type: ignore[arg-type]
            break
        await asyncio.sleep(0.1)
    await expect(page.get_by_test_id("progress-note")).to_have_count(0)

    await context.set_offline(True)
    await go(page, "ia/ia-1-3")  # completed on this device only
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your workshop journey")
    await page.reload()
    await go(page, "ia")
    await expect(summary).to_contain_text("3 of 18 steps done", timeout=10_000)
    note = page.get_by_test_id("progress-note")
    await expect(note).to_contain_text("this device")
    await expect(pending_work(page)).to_contain_text("progress")
    await screenshot(page, "overview-offline-progress")

    await context.set_offline(False)
    await expect(note).to_have_count(0, timeout=15_000)
    await expect(summary).to_contain_text("3 of 18 steps done")
    stored = await navigation_progress(e2e_server, account, "ia")
    assert set(stored["completedSteps"]) == {"ia-1-1", "ia-1-2", "ia-1-3"}  # type: ignore[call-overload]
    await expect(pending_work(page)).to_have_text(SAVED)


async def test_an_image_chosen_in_a_tab_closed_at_once_reaches_its_step_through_another_tab(
    browser: Browser, context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    staying = await context.new_page()
    await sign_in(staying, e2e_server, account, "ia/ia-3-4")
    await expect(pending_work(staying)).to_have_text(SAVED)
    closing = await context.new_page()
    await closing.goto(f"{e2e_server.url}/#/ia/ia-3-3")
    await expect(save_state(closing)).to_have_text(SAVED)
    await choose_photo(closing)
    for _ in range(100):  # on the device (the image and its step change, in one write)
        if (await closing.evaluate(READ_DEVICE))["blobSizes"]:
            break
        await closing.wait_for_timeout(20)
    await closing.close()  # the upload may not even have ended

    url = await uploaded_image_of(e2e_server, account, seconds=15)
    await seen_from_another_device(browser, e2e_server, account, url)
    await expect(pending_work(staying)).to_have_text(SAVED, timeout=10_000)
