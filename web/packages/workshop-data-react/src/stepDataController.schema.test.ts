/** The controller: text merges on 409, and step data written in an older schema version (on the
 * server, in a 409's copy, in the journal) migrated before it is merged, and saved back once. */
import { describe, expect, it, vi } from 'vitest';

import type { MigrateStepData } from './schemaVersion.js';
import { JOURNAL, KEY, advance, server, started, storage, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

/** Version 2 of the step renamed `reflection` to `why`. */
const renameReflection: MigrateStepData = (data, fromVersion) => {
  if (fromVersion !== null && fromVersion >= 2) return data;
  const { reflection, ...rest } = data;
  return { ...rest, why: typeof reflection === 'string' ? reflection : '' };
};

describe('text merges', () => {
  it('keeps both devices’ edits in different places of one text, reporting nothing', async () => {
    server.put(KEY, { why: 'I want to grow.', how: '', next: '' }, 1);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    server.put(KEY, { why: 'I want to grow. With my team.', how: '', next: '' }, 2); // the laptop
    controller.updateData({ why: 'Today: I want to grow.' }); // the phone
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'Today: I want to grow. With my team.', how: '', next: '' });
    expect(onConflict).not.toHaveBeenCalled();
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', data: { why: 'Today: I want to grow. With my team.' } });
  });

  it('keeps both sentences typed into the same empty field, and reports the field', async () => {
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    server.put(KEY, { why: 'Written on the laptop.', how: '', next: '' }, 1);
    controller.updateData({ why: 'Written on the phone.' });
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toMatchObject({ why: 'Written on the laptop.\n\nWritten on the phone.' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({ fields: ['why'], mine: { why: 'Written on the phone.' } });
  });
});

describe('schema versions', () => {
  it('migrates a renamed field on load, and saves the migrated document back once', async () => {
    server.put(KEY, { reflection: 'Because it matters', how: 'Slowly' }, 1); // written before versions
    const migrate = vi.fn(renameReflection);
    const controller = await started({ schemaVersion: 2, migrate });
    expect(controller.getSnapshot().data).toEqual({ why: 'Because it matters', how: 'Slowly', next: '' });
    expect(migrate).toHaveBeenCalledTimes(1);
    expect(migrate.mock.calls[0]?.[1]).toBeNull();
    await advance(1000);
    const saves = server.saves();
    expect(saves).toHaveLength(1);
    expect(saves[0]?.method).toBe('POST'); // whole: a patch would apply to the old shape
    expect(saves[0]?.body).toMatchObject({ schemaVersion: 2, baseVersion: 1 });
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'Because it matters', how: 'Slowly', next: '' }, version: 2, schemaVersion: 2 });
    expect(server.docs.get(KEY)?.data).not.toHaveProperty('reflection');
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', hasPendingChanges: false });
    await advance(30_000);
    expect(server.saves()).toHaveLength(1);

    controller.dispose();
    const again = await started({ schemaVersion: 2, migrate });
    await advance(5000);
    expect(migrate).toHaveBeenCalledTimes(1); // current data is not migrated again
    expect(server.saves()).toHaveLength(1);
    expect(again.getSnapshot().data).toEqual({ why: 'Because it matters', how: 'Slowly', next: '' });
  });

  it('sends its schema version with partial saves too', async () => {
    server.put(KEY, { why: 'a', how: '', next: '' }, 1, 2);
    const controller = await started({ schemaVersion: 2, migrate: renameReflection });
    controller.updateData({ how: 'b' });
    await advance(1000);
    expect(server.saves()).toHaveLength(1);
    expect(server.saves()[0]?.method).toBe('PATCH');
    expect(server.saves()[0]?.headers['X-Schema-Version']).toBe('2');
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'a', how: 'b' }, schemaVersion: 2 });
  });

  it('leaves data written by newer code as it is and does not save it back', async () => {
    server.put(KEY, { why: 'a', how: '', next: '', extra: 'from version 3' }, 1, 3);
    const migrate = vi.fn(renameReflection);
    const controller = await started({ schemaVersion: 2, migrate });
    await advance(5000);
    expect(migrate).not.toHaveBeenCalled();
    expect(server.saves()).toHaveLength(0);
    expect(controller.getSnapshot().data).toMatchObject({ why: 'a', extra: 'from version 3' });
  });

  it('migrates the copy of a 409 written by an older version before merging with it', async () => {
    server.put(KEY, { why: 'base', how: '', next: '' }, 1, 2);
    const controller = await started({ schemaVersion: 2, migrate: renameReflection });
    server.put(KEY, { reflection: 'theirs', how: '', next: '' }, 2, 1); // a device on the old app
    controller.updateData({ how: 'mine' });
    await advance(1000);
    expect(server.saves().map((save) => save.method)).toEqual(['PATCH', 'POST']);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'theirs', how: 'mine', next: '' }, schemaVersion: 2, version: 3 });
    expect(server.docs.get(KEY)?.data).not.toHaveProperty('reflection');
  });

  it('migrates a journal written by an older schema before replaying it', async () => {
    server.put(KEY, { reflection: 'server', how: '', next: '' }, 1);
    // Kept by the step's earlier code, which wrote `reflection` and declared no version.
    storage.setItem(
      JOURNAL,
      JSON.stringify({ data: { reflection: 'typed offline', how: '', next: '' }, base: { reflection: 'server', how: '', next: '' }, baseVersion: 1, changedAt: 0 }),
    );
    const onConflict = vi.fn();
    const controller = await started({ schemaVersion: 2, migrate: renameReflection, onConflict });
    expect(controller.getSnapshot().data).toEqual({ why: 'typed offline', how: '', next: '' });
    await advance(1000);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed offline', how: '', next: '' }, schemaVersion: 2 });
    expect(server.docs.get(KEY)?.data).not.toHaveProperty('reflection');
    expect(onConflict).not.toHaveBeenCalled(); // the journal's base is the server copy: no conflict
    expect(storage.getItem(JOURNAL)).toBeNull();
  });

  it('records the schema version in the journal', async () => {
    server.put(KEY, { why: '', how: '', next: '' }, 1, 2);
    server.fail('POST', { kind: 'network' }, 5);
    const controller = await started({ schemaVersion: 2, migrate: renameReflection });
    controller.updateData({ why: 'kept' });
    await advance(1000);
    expect(JSON.parse(storage.getItem(JOURNAL) ?? '{}')).toMatchObject({ data: { why: 'kept' }, schemaVersion: 2 });
  });

  it('keeps old data as it was when migrate throws, and does not save it back', async () => {
    server.put(KEY, { reflection: 'Because', how: '', next: '' }, 1);
    const onSaveError = vi.fn();
    const controller = await started({
      schemaVersion: 2,
      migrate: () => {
        throw new Error('unknown shape');
      },
      onSaveError,
    });
    await advance(5000);
    expect(server.saves()).toHaveLength(0);
    expect(controller.getSnapshot().data).toMatchObject({ reflection: 'Because' });
    expect(onSaveError).toHaveBeenCalledTimes(1);
  });
});
