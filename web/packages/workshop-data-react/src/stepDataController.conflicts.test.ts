/** The controller: merges of another copy's changes, from the server (409) and from the user's other tabs. */
import { describe, expect, it, vi } from 'vitest';

import { canonicalJson, fingerprint, jsonEqual, threeWayMerge } from './merge.js';
import { saveAllNow } from './registry.js';
import { ChannelHub } from './testing/fakeServer.js';
import { KEY, server, events, settle, advance, started, held, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

describe('conflicts', () => {
  it('merges on 409, keeping both texts of a field both changed, and saves again on the current version', async () => {
    server.put(KEY, { why: 'base', how: 'base', next: 'base' }, 1);
    const onConflict = vi.fn();
    const controller = await started({ onConflict });
    server.put(KEY, { why: 'base', how: 'theirs', next: 'theirs' }, 2); // another device saved
    controller.updateData({ why: 'mine', next: 'mine too' });
    await advance(1000);
    const saves = server.saves();
    expect(saves).toHaveLength(2);
    expect(saves[0]?.baseVersion).toBe(1);
    expect(saves[1]?.baseVersion).toBe(2);
    // why: only mine changed; how: only theirs; next: both rewrote it (both kept whole: theirs, a blank line, mine; reported).
    expect(saves[1]?.document).toEqual({ why: 'mine', how: 'theirs', next: 'theirs\n\nmine too' });
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'mine', how: 'theirs', next: 'theirs\n\nmine too' });
    expect(onConflict).toHaveBeenCalledTimes(1);
    expect(onConflict.mock.calls[0]?.[0]).toMatchObject({
      fields: ['next'],
      mine: { why: 'mine', how: 'base', next: 'mine too' },
      theirs: { why: 'base', how: 'theirs', next: 'theirs' },
      merged: { why: 'mine', how: 'theirs', next: 'theirs\n\nmine too' },
    });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 3, data: { how: 'theirs' } });
  });

  it('shows conflict until the merge is saved', async () => {
    server.put(KEY, { why: 'base' }, 1);
    const controller = await started();
    server.put(KEY, { why: 'theirs' }, 2);
    const statuses: string[] = [];
    controller.subscribe(() => statuses.push(controller.getSnapshot().status));
    server.fail('POST', {
      kind: 'status',
      status: 409,
      body: { success: false, code: 'version_conflict', error: 'Changed.', current: { data: { why: 'theirs' }, version: 2 } },
    });
    const gate = held();
    controller.updateData({ why: 'mine' });
    await advance(999);
    server.gate = gate.promise;
    await advance(1);
    expect(controller.getSnapshot().status).toBe('conflict');
    server.gate = null;
    gate.release();
    await settle();
    expect(statuses).toContain('conflict');
    expect(controller.getSnapshot().status).toBe('saved');
  });

  it('a 409 for a row that no longer exists is re-sent with baseVersion 0', async () => {
    server.put(KEY, { why: 'old' }, 4);
    const controller = await started();
    server.docs.delete(KEY); // reset elsewhere: to the merge, every field went back to its default
    controller.updateData({ how: 'new' });
    await advance(1000);
    expect(server.saves().map((s) => s.baseVersion)).toEqual([4, 0]);
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: '', how: 'new', next: '' }, version: 1 });
  });

  it('its own earlier write (a keepalive on hide) is not a conflict', async () => {
    server.put(KEY, { why: 'base' }, 1);
    const onConflict = vi.fn();
    const page = { visibilityState: 'visible' };
    const keepaliveAnswer = held();
    const fetchFn: typeof fetch = async (input, init) => {
      const response = await server.fetch(input, init);
      if (init?.keepalive) await keepaliveAnswer.promise;
      return response;
    };
    const controller = await started({ onConflict, document: page, fetch: fetchFn });
    controller.updateData({ why: 'typed' });
    page.visibilityState = 'hidden';
    events.fire('visibilitychange'); // committed as version 2; the answer is slow
    page.visibilityState = 'visible';
    controller.updateData({ why: 'typed more' });
    await advance(1000); // a normal save on base 1 meets version 2: its own text
    keepaliveAnswer.release();
    await advance(1000);
    expect(onConflict).not.toHaveBeenCalled();
    expect(server.docs.get(KEY)).toMatchObject({ data: { why: 'typed more' }, version: 3 });
    expect(controller.getSnapshot()).toMatchObject({ status: 'saved', version: 3 });
  });

  it('backs off when every save keeps meeting a newer version', async () => {
    const controller = await started({ maxConflictRetries: 5 });
    server.alwaysFailSaves = {
      kind: 'status',
      status: 409,
      body: { success: false, code: 'version_conflict', error: 'Changed.', current: { data: { why: 'x' }, version: 9 } },
    };
    controller.updateData({ why: 'mine' });
    await advance(1000);
    expect(server.saves()).toHaveLength(6); // one, then five merges sent at once
    expect(controller.getSnapshot().status).toBe('error');
    await advance(60_000);
    expect(server.saves().length).toBeLessThanOrEqual(13); // then exponential backoff
  });

  it('threeWayMerge, jsonEqual and fingerprints', () => {
    expect(threeWayMerge({ a: 1, b: 1, c: 1 }, { a: 2, b: 1, c: 3 }, { a: 1, b: 2, c: 4 })).toEqual({
      merged: { a: 2, b: 2, c: 3 },
      conflicts: ['c'],
    });
    expect(threeWayMerge({ a: 1 }, { a: 1 }, {})).toEqual({ merged: {}, conflicts: [] });
    expect(threeWayMerge({ a: 1 }, {}, { a: 1 })).toEqual({ merged: {}, conflicts: [] });
    expect(threeWayMerge({}, { list: [1] }, { list: [1] })).toEqual({ merged: { list: [1] }, conflicts: [] });
    expect(threeWayMerge({ t: 'x' }, { t: '' }, { t: 'y' })).toEqual({ merged: { t: '' }, conflicts: ['t'] });
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual({ a: '' }, { a: null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
    expect(fingerprint({ a: 1, b: 'é' })).toBe(fingerprint({ b: 'é', a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});

describe('tabs', () => {
  it('adopts what another tab saved for fields it has not changed', async () => {
    const hub = new ChannelHub();
    const first = await started({ createChannel: hub.create });
    const second = await started({ createChannel: hub.create });
    second.updateData({ how: 'second tab, unsaved' });
    first.updateData({ why: 'first tab' });
    await first.saveNow();
    expect(hub.posted.at(-1)).toEqual({
      name: 'workshop-data:7',
      message: { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'first tab', how: '', next: '' }, version: 1 },
    });
    expect(second.getSnapshot().data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(second.getSnapshot().version).toBe(1);
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'first tab', how: 'second tab, unsaved', next: '' });
    expect(server.saves().at(-1)?.baseVersion).toBe(1); // no 409 round trip
    expect(server.saves()).toHaveLength(2);
    // And the first tab adopts the second's save in turn.
    expect(first.getSnapshot()).toMatchObject({ version: 2, data: { how: 'second tab, unsaved' } });
  });

  it('ignores messages for other steps and older versions', async () => {
    const hub = new ChannelHub();
    server.put(KEY, { why: 'v3' }, 3);
    const controller = await started({ createChannel: hub.create });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-3', data: { why: 'other step' }, version: 9 });
    hub.send('workshop-data:7', { workshopType: 'ast', stepId: 'ia-3-4', data: { why: 'other workshop' }, version: 9 });
    hub.send('workshop-data:7', { workshopType: 'ia', stepId: 'ia-3-4', data: { why: 'older' }, version: 2 });
    hub.send('workshop-data:7', 'garbage');
    expect(controller.getSnapshot()).toMatchObject({ version: 3, data: { why: 'v3' } });
  });

  it('saveAllNow saves every mounted step at once', async () => {
    const a = await started({}, 'ia-3-4');
    const b = await started({}, 'ia-3-3');
    a.updateData({ why: 'a' });
    b.updateData({ why: 'b' });
    expect(await saveAllNow()).toBe(true);
    expect(server.docs.get('ia:ia-3-4')?.data).toMatchObject({ why: 'a' });
    expect(server.docs.get('ia:ia-3-3')?.data).toMatchObject({ why: 'b' });
    server.fail('POST', { kind: 'network' });
    a.updateData({ why: 'a2' });
    expect(await saveAllNow()).toBe(false);
  });
});
