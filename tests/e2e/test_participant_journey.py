"""The web app as a participant uses it, in Chromium against a real server: progress is
recorded, completion is safe, drafts are data, navigation is what a person expects."""

import asyncio
import json
import re
from pathlib import Path

from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.support import NewUser, doc_screenshot
from tests.e2e.test_workshop_pages import (
    SAVED,
    complete_every_required_step,
    navigation_progress,
    open_step,
    save_state,
    server_copy,
    sign_in,
    signed_in_client,
)
from tests.server_process import ServerProcess


def step_item(page: Page, step: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#step-list li[data-step='{step}']")


async def test_progress_is_recorded_as_the_participant_moves(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ast/1-1")
    await expect(step_item(page, "1-1")).to_have_attribute("data-state", "done")
    await page.get_by_role("link", name="Your star power", exact=False).first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your star power")
    await expect(step_item(page, "2-1")).to_have_attribute("data-state", "current")
    await page.get_by_label("Feeling").check()
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await expect(step_item(page, "2-1")).to_have_attribute("data-state", "done")
    await expect(step_item(page, "2-2")).to_have_attribute("data-state", "not-yet")

    progress = await navigation_progress(e2e_server, account, "ast")
    assert progress["currentStepId"] == "2-1"
    assert progress["completedSteps"] == ["1-1", "2-1"]
    assert progress["unlockedSteps"] == ["1-1", "1-2", "2-1", "2-2"]

    # An answered step that is cleared again stays completed (progress only grows), and an
    # opened required step with no answer is not completed.
    await page.get_by_role("link", name=re.compile("Flow patterns")).first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Flow patterns")
    await expect(save_state(page)).to_have_text(SAVED)
    progress = await navigation_progress(e2e_server, account, "ast")
    assert progress["currentStepId"] == "2-2"
    assert "2-2" not in progress["completedSteps"]  # type: ignore[operator]


async def test_completion_is_refused_while_required_steps_are_missing(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ast")
    await expect(page.get_by_role("heading", level=1)).to_have_text("AllStarTeams")
    await expect(page).to_have_title("AllStarTeams: overview — Workshop")
    missing = page.get_by_test_id("missing-steps")
    await expect(missing.get_by_role("listitem")).to_have_count(13)
    await expect(missing).to_contain_text("Your star power")
    button = page.get_by_role("button", name="Complete workshop")
    await expect(button).to_be_disabled()
    await doc_screenshot(page, "overview")

    # One step short of done: still refused, and the list names exactly that step.
    await complete_every_required_step(e2e_server, account, "ast", except_steps=("4-5",))
    await page.reload()
    await expect(missing.get_by_role("listitem")).to_have_count(1)
    await expect(missing).to_have_text("Commitment")
    await expect(button).to_be_disabled()
    # The server refuses too, now that the participant has progress.
    async with signed_in_client(e2e_server, account) as client:
        refused = await client.post("/api/workshop-data/complete/ast")
        assert refused.status_code == 409
        assert refused.json()["missingSteps"] == ["4-5"]
        status = (await client.get("/api/workshop-data/status/ast")).json()
        assert status["completed"] is False


async def test_completion_asks_for_confirmation_and_states_what_is_locked(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ast")
    await complete_every_required_step(e2e_server, account, "ast")
    await page.reload()
    await page.get_by_role("button", name="Complete workshop").click()
    dialog = page.get_by_role("dialog", name="Complete AllStarTeams?")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text(
        "These sections will be locked: Assess your strengths, Reflect, Plan."
    )
    await expect(dialog).to_contain_text("These stay editable: Introduction.")
    # Focus starts on Cancel; Escape closes the dialog and nothing is completed.
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    async with signed_in_client(e2e_server, account) as client:
        status = (await client.get("/api/workshop-data/status/ast")).json()
        assert status["completed"] is False

    await page.get_by_role("button", name="Complete workshop").click()
    await dialog.get_by_role("button", name="Complete and lock").click()
    await expect(page.get_by_test_id("locked-sections")).to_contain_text(
        "Assess your strengths, Reflect, Plan"
    )
    await expect(page.get_by_test_id("editable-sections")).to_contain_text("Introduction")
    async with signed_in_client(e2e_server, account) as client:
        status = (await client.get("/api/workshop-data/status/ast")).json()
        assert status["completed"] is True

    # As stated: a locked section is read-only, the introduction is still editable.
    await open_step(page, e2e_server, "ast/3-1")
    await expect(save_state(page)).to_have_text("Locked")
    await expect(page.get_by_label("Your reflection")).to_have_attribute("readonly", "")
    await open_step(page, e2e_server, "ast/1-2")
    await page.get_by_label("Your reflection").fill("Still mine to change")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    stored = await server_copy(e2e_server, account, "ast/1-2")
    assert stored["data"] == {"reflection": "Still mine to change"}


async def test_a_draft_moment_survives_a_reload(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-2")
    await page.get_by_label("A moment").fill("Half-written moment")
    await page.get_by_label("Tag").select_option("Curiosity")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await page.reload()
    await expect(page.get_by_label("A moment")).to_have_value("Half-written moment")
    await expect(page.get_by_label("Tag")).to_have_value("Curiosity")
    stored = await server_copy(e2e_server, account, "ia/ia-3-2")
    assert stored["data"] == {
        "savedMoments": [],
        "currentMomentText": "Half-written moment",
        "currentSelectedTag": "Curiosity",
    }

    # "Save Moment" moves the draft into the list and clears it in one save.
    version = stored["version"]
    await page.get_by_role("button", name="Save Moment").click()
    await expect(page.get_by_label("A moment")).to_have_value("")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-2")
    assert stored["version"] == version + 1  # type: ignore[operator]
    moments = stored["data"]["savedMoments"]  # type: ignore[index]
    assert isinstance(moments[0].pop("id"), str)  # each saved moment gets its own id
    assert stored["data"] == {
        "savedMoments": [{"text": "Half-written moment", "tag": "Curiosity"}],
        "currentMomentText": "",
        "currentSelectedTag": "",
    }


async def test_a_draft_goal_survives_a_reload(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ast/3-2")
    await page.get_by_label("A goal").fill("Not added yet")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await page.reload()
    await expect(page.get_by_label("A goal")).to_have_value("Not added yet")
    await page.get_by_role("button", name="Add goal").click()
    await expect(page.get_by_test_id("goals")).to_contain_text("Not added yet")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    stored = await server_copy(e2e_server, account, "ast/3-2")
    assert stored["data"] == {"goals": ["Not added yet"], "timeline": "", "currentGoal": ""}


async def test_an_unknown_step_url_says_so(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.goto(f"{e2e_server.url}/#/ia/ia-9-9")
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("This step does not exist")
    await expect(heading).to_be_focused()
    await expect(page).to_have_title("Step not found — Workshop")
    await expect(page.get_by_test_id("save-state")).to_have_count(0)
    await page.get_by_role("link", name="Go to the Imaginal Agility overview").click()
    await expect(heading).to_have_text("Imaginal Agility")
    await page.goto(f"{e2e_server.url}/#/nope")
    await expect(heading).to_have_text("This step does not exist")


async def test_headings_titles_and_focus_follow_the_participant(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await expect(page).to_have_title("Choose your vision image — Imaginal Agility")
    await expect(page.get_by_role("heading", level=1)).to_have_count(1)
    await page.get_by_role("link", name="Reflection questions →").click()
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text("Reflection questions")
    await expect(heading).to_be_focused()
    await expect(page).to_have_title("Reflection questions — Imaginal Agility")
    await expect(page.get_by_text("Imaginal Agility · Step 3.4 · Imagine")).to_be_visible()
    await expect(page.get_by_text("ia-3-4")).to_have_count(0)
    await page.get_by_label("Why is this important to you?").fill("For the docs")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await doc_screenshot(page, "step")


async def test_phone_layout_keeps_the_save_state_in_view(
    browser_context_phone: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await browser_context_phone.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    header = await page.locator(".topbar").bounding_box()
    assert header is not None and header["height"] <= 60, header
    step_list = page.get_by_role("navigation", name="Imaginal Agility steps")
    await expect(step_list).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    await expect(menu).to_have_attribute("aria-expanded", "false")

    # With the on-screen keyboard up, about half of the 740 px is left for the page.
    await page.set_viewport_size({"width": 375, "height": 400})
    last = page.get_by_label("What's your next step?")
    await last.click()
    await page.keyboard.type("Typed on a phone, in the last field")
    state = save_state(page)
    await expect(state).to_be_in_viewport()
    box = await state.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 400, box
    assert (await page.evaluate("window.scrollY")) > 0  # the page did scroll to the last field
    await expect(state).to_have_text(SAVED, timeout=10_000)
    await expect(state).to_be_in_viewport()
    await page.set_viewport_size({"width": 375, "height": 740})
    await page.evaluate("window.scrollTo(0, 0)")
    await doc_screenshot(page, "phone")

    await menu.click()
    await expect(step_list).to_be_visible()
    await step_list.get_by_role("link", name=re.compile("Higher purpose")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Higher purpose")
    await expect(step_list).to_be_hidden()
    await doc_screenshot(page, "phone-step")
    await page.get_by_role("button", name="Menu").click()
    await doc_screenshot(page, "phone-menu")


async def test_my_data_is_readable_and_downloads_pretty_json(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label("Why is this important to you?").fill("Line one\nLine two")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await page.get_by_role("link", name="Download my data").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Everything you wrote")
    step = page.locator(".my-data__step[data-step='ia-3-4']")
    await expect(step.get_by_role("heading")).to_have_text("Reflection questions")
    await expect(step).to_contain_text("Why is this important to you?")
    await expect(step).to_contain_text("Line one\nLine two")
    # Steps in the catalogue's order, the IA workshop after AST.
    order = await page.locator(".my-data__step").evaluate_all(
        "nodes => nodes.map(n => n.dataset.step)"
    )
    assert order.index("1-1") < order.index("4-5") < order.index("ia-1-1") < order.index("ia-3-4")

    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download as JSON").click()
    download = await info.value
    assert re.fullmatch(
        r"workshop-data-e2e-[0-9a-f]{8}-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename
    )
    text = await asyncio.to_thread(Path(await download.path()).read_text, encoding="utf-8")
    assert text.startswith('{\n  "userInfo"')
    document = json.loads(text)
    assert (
        document["workshopStepData"]["ia"]["ia-3-4"]["data"]["whyReflection"]
        == "Line one\nLine two"
    )
    await expect(page.get_by_test_id("download-status")).to_contain_text(
        f"Downloaded {download.suggested_filename}"
    )


async def test_an_older_version_can_be_restored(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    why = page.get_by_label("Why is this important to you?")
    await why.fill("What I wrote an hour ago")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    await why.fill("")  # cleared by mistake
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    assert (await server_copy(e2e_server, account, "ia/ia-3-4"))["version"] == 2

    history = page.get_by_test_id("history")
    await history.get_by_text("Previous versions").click()
    await expect(history.locator("li[data-version='1']")).to_contain_text(
        "What I wrote an hour ago"
    )
    await expect(history.locator("li[data-version='2']")).to_contain_text("Current")
    await history.scroll_into_view_if_needed()
    await doc_screenshot(page, "history")
    await history.get_by_role("button", name="Restore version 1").click()
    await expect(page.get_by_test_id("history-message")).to_have_text(
        "Restored version 1; it is now version 3."
    )
    await expect(why).to_have_value("What I wrote an hour ago")
    await expect(history.locator("li[data-version='3']")).to_contain_text("Current")
    await expect(save_state(page)).to_have_text(SAVED)
    stored = await server_copy(e2e_server, account, "ia/ia-3-4")
    assert stored["version"] == 3
    assert stored["data"]["whyReflection"] == "What I wrote an hour ago"  # type: ignore[index]
    # Nothing is re-sent over the restored copy after a reload.
    await page.reload()
    await expect(why).to_have_value("What I wrote an hour ago")
    assert (await server_copy(e2e_server, account, "ia/ia-3-4"))["version"] == 3
