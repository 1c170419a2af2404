"""The web app and the API docs in a real Chromium under the strict Content-Security-Policy:
they work (sign-in, typing, saving; the docs list the operations) and the browser reports no
violation; an inline script injected into the page is blocked."""

from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_workshop_pages import SAVED, save_state, sign_in
from tests.server_process import ServerProcess

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


async def violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.__violations")
    return found


async def test_the_app_runs_under_the_policy(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    await context.add_init_script(WATCH_VIOLATIONS)
    account = await new_user()
    page = await context.new_page()
    response = await page.goto(e2e_server.url)
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    await sign_in(page, e2e_server, account, "ia/ia-3-4")
    await page.get_by_label("Why").fill("typed under a strict policy")
    await expect(save_state(page)).to_have_text(SAVED, timeout=10_000)
    assert await violations(page) == []
    # The policy holds: an injected inline script does not run, and the browser says so.
    ran = await page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__inline = true';
                   document.body.appendChild(s);
                   return window.__inline === true; }"""
    )
    assert ran is False
    await page.wait_for_function("window.__violations.length > 0")
    assert any(v.startswith("script-src") for v in await violations(page))


async def test_the_api_docs_render_from_local_assets_under_the_policy(
    context: BrowserContext, e2e_server: ServerProcess
) -> None:
    await context.add_init_script(WATCH_VIOLATIONS)
    page = await context.new_page()
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url) if not request.url.startswith(e2e_server.url) else None
        ),
    )
    await page.goto(f"{e2e_server.url}/api/docs")
    await expect(page.get_by_text("/api/auth/login").first).to_be_visible(timeout=15_000)
    await expect(page.get_by_text("/api/workshop-data/step", exact=True).first).to_be_visible()
    await screenshot(page, "api-docs")
    assert await violations(page) == []
    assert [url for url in elsewhere if not url.startswith("data:")] == []
