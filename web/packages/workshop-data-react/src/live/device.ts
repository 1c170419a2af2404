/** This tab's name in the `X-Device-Id` header of its saves, so that the `step` event of a save
 * it made itself is recognised and not fetched again. New in every page load. */
let tabId: string | null = null;

export function thisTabDeviceId(): string {
  if (tabId === null) {
    const random = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
    tabId = `tab-${random.replace(/-/g, '').slice(0, 16)}`;
  }
  return tabId;
}
