/** The signed-in user's id, or a clear error: without it unsaved text would be kept under no
 * one's name, and the next person on the device could be shown (and save) it. */
export function requireUserId(userId: unknown): string | number {
  if (typeof userId === 'number' && Number.isFinite(userId)) return userId;
  if (typeof userId === 'string' && userId.trim() !== '') return userId;
  throw new TypeError(
    `workshop-data-react: userId is required (the signed-in user's id, in the options or from a WorkshopDataProvider); got ${JSON.stringify(userId) ?? String(userId)}.`,
  );
}
