"""IA 3-3 with a real photo in a real Chromium: kept on the device while offline (IndexedDB),
uploaded once the network returns, and a save indicator that never claims more than is true."""

import os
import re
import struct
import zlib

import httpx
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.support import NewUser, screenshot
from tests.e2e.test_workshop_pages import OFFLINE, SAVED, save_state, server_copy, sign_in
from tests.server_process import ServerProcess
from tests.support import Account

NOT_KEPT = "Not saved yet — this device could not keep a copy"
UPLOAD_URL = re.compile(r"^/api/uploads/[A-Za-z0-9_-]+$")

# Every text the save indicator shows on a page load, in order (reset by a reload).
RECORD_SAVE_STATES = """
window.__saveStates = [];
new MutationObserver(() => {
  const el = document.querySelector('[data-testid="save-state"]');
  const text = el ? el.textContent : null;
  const seen = window.__saveStates;
  if (text && seen[seen.length - 1] !== text) seen.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""

# A device whose storage is full: every IndexedDB and localStorage write throws.
STORAGE_FULL = """
const full = () => {
  throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
};
Storage.prototype.setItem = full;
IDBObjectStore.prototype.put = full;
IDBObjectStore.prototype.add = full;
"""

# What this device keeps: the journal entries and the waiting images in IndexedDB.
READ_DEVICE = """
async () => {
  const all = (name, store) => new Promise((resolve) => {
    const open = indexedDB.open(name);
    open.onerror = () => resolve([]);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(store)) { db.close(); resolve([]); return; }
      const request = db.transaction(store).objectStore(store).getAll();
      request.onsuccess = () => { db.close(); resolve(request.result); };
      request.onerror = () => { db.close(); resolve([]); };
    };
  });
  const journal = await all('workshop-data-journal', 'entries');
  const uploads = await all('workshop-data-uploads', 'blobs');
  return {
    titles: journal.map((entry) => entry.data && entry.data.imageTitle).filter(Boolean),
    // The images; the step changes waiting for them are kept beside them, without a blob.
    blobSizes: uploads.filter((entry) => entry.blob).map((entry) => entry.blob.size),
  };
}
"""


def noisy_png(width: int, height: int) -> bytes:
    """An RGB PNG of random pixels: it does not compress, so its size is about width*height*3."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = width * 3
    noise = os.urandom(row * height)
    raw = b"".join(b"\x00" + noise[y * row : (y + 1) * row] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


async def states(page: Page) -> list[str]:
    seen: list[str] = await page.evaluate("window.__saveStates")
    return seen


async def fetch_upload(server: ServerProcess, account: Account, url: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post(
            "/api/auth/login", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        return await client.get(url)


async def test_offline_photo_and_title_survive_an_offline_reload_and_reach_the_server(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    photo = noisy_png(1250, 1200)
    assert len(photo) > 4_400_000
    account = await new_user()
    await context.add_init_script(RECORD_SAVE_STATES)
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)

    await context.set_offline(True)
    await page.get_by_label("Or upload an image").set_input_files(
        {"name": "vision.png", "mimeType": "image/png", "buffer": photo}
    )
    # Shown at once, from the device.
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await page.get_by_label("Image title").fill("Offline vision")
    await expect(save_state(page)).to_have_text(OFFLINE, timeout=20_000)
    # "Kept on this device" is true: the blob and the title are in IndexedDB.
    device = await page.evaluate(READ_DEVICE)
    assert device["titles"] == ["Offline vision"]
    assert len(device["blobSizes"]) == 1 and device["blobSizes"][0] > 100_000
    before_reload = await states(page)
    assert SAVED not in before_reload[before_reload.index("Saving…") :], before_reload

    await page.reload()
    await expect(page.get_by_label("Image title")).to_have_value("Offline vision", timeout=10_000)
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await expect(save_state(page)).to_have_text(OFFLINE, timeout=10_000)
    await screenshot(page, "ia-3-3-offline-photo")
    assert SAVED not in await states(page)

    await context.set_offline(False)
    await expect(save_state(page)).to_have_text(SAVED, timeout=30_000)
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute("src", UPLOAD_URL)
    stored = await server_copy(e2e_server, account, "ia/ia-3-3")
    data: dict[str, object] = stored["data"]  # type: ignore[assignment]
    assert data["imageTitle"] == "Offline vision"
    assert isinstance(data["uploadedImage"], str) and UPLOAD_URL.match(data["uploadedImage"])
    upload = await fetch_upload(e2e_server, account, data["uploadedImage"])
    assert upload.status_code == 200
    assert upload.headers["content-type"] in {"image/webp", "image/jpeg", "image/png"}
    assert len(upload.content) == device["blobSizes"][0]
    # Once the server has it, the device no longer keeps the blob.
    for _ in range(100):
        device = await page.evaluate(READ_DEVICE)
        if device == {"titles": [], "blobSizes": []}:
            break
        await page.wait_for_timeout(100)
    assert device == {"titles": [], "blobSizes": []}


async def test_a_large_photo_is_scaled_down_before_upload(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    photo = noisy_png(2400, 1700)  # about 12 MB, over the server's 10 MiB limit as it is
    assert len(photo) > 12_000_000
    account = await new_user()
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.get_by_label("Or upload an image").set_input_files(
        {"name": "big.png", "mimeType": "image/png", "buffer": photo}
    )
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", UPLOAD_URL, timeout=30_000
    )
    await expect(save_state(page)).to_have_text(SAVED, timeout=15_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-3")
    url = stored["data"]["uploadedImage"]  # type: ignore[index]
    upload = await fetch_upload(e2e_server, account, url)
    assert upload.status_code == 200
    size = await page.evaluate(
        """async (url) => {
            const bitmap = await createImageBitmap(await (await fetch(url)).blob());
            return [bitmap.width, bitmap.height];
        }""",
        url,
    )
    assert size == [2048, 1451]


async def test_a_device_that_cannot_store_anything_never_says_kept(
    context: BrowserContext, e2e_server: ServerProcess, new_user: NewUser
) -> None:
    account = await new_user()
    await context.add_init_script(STORAGE_FULL)
    await context.add_init_script(RECORD_SAVE_STATES)
    page = await context.new_page()
    await sign_in(page, e2e_server, account, "ia/ia-3-3")
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)

    await context.set_offline(True)
    # The image alone first: the step itself has nothing pending, only the image waits.
    await page.get_by_label("Or upload an image").set_input_files(
        {"name": "small.png", "mimeType": "image/png", "buffer": noisy_png(64, 64)}
    )
    await expect(page.get_by_test_id("chosen-image")).to_have_attribute(
        "src", re.compile(r"^blob:")
    )
    await expect(save_state(page)).to_have_text(NOT_KEPT, timeout=10_000)
    await expect(save_state(page)).to_have_attribute("data-status", "not-kept")
    assert OFFLINE not in await states(page)
    # Then the title: its journal write fails too.
    await page.get_by_label("Image title").fill("Nowhere to keep it")
    await page.wait_for_timeout(1500)  # past the debounce: the save failed offline
    await expect(save_state(page)).to_have_text(NOT_KEPT)
    await screenshot(page, "ia-3-3-not-kept")
    seen = await states(page)
    assert OFFLINE not in seen, seen

    # The page still holds it: once the network is back, everything reaches the server.
    await context.set_offline(False)
    await expect(save_state(page)).to_have_text(SAVED, timeout=30_000)
    stored = await server_copy(e2e_server, account, "ia/ia-3-3")
    assert stored["data"]["imageTitle"] == "Nowhere to keep it"  # type: ignore[index]
    assert UPLOAD_URL.match(stored["data"]["uploadedImage"])  # type: ignore[index]
    assert OFFLINE not in await states(page)
