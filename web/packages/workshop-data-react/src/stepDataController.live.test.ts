/** The controller and the live events: "the server has version N" fetches and merges it. */
import { describe, expect, it } from 'vitest';

import { KEY, server, settle, advance, started, useControllerHarness } from './testing/controllerHarness.js';

useControllerHarness();

describe('a save from another device, told by the event stream', () => {
  it('is fetched and merged with what this page has not saved yet', async () => {
    server.put(KEY, { why: 'base', how: '', next: '' }, 1);
    const controller = await started();
    const loadsBefore = server.loads().length;
    controller.updateData({ next: 'mine' }); // typed here, not saved yet
    server.put(KEY, { why: 'base', how: 'from the phone', next: '' }, 2); // the phone saved
    controller.serverHasVersion(2);
    await settle();
    expect(server.loads()).toHaveLength(loadsBefore + 1);
    expect(controller.getSnapshot().data).toEqual({ why: 'base', how: 'from the phone', next: 'mine' });
    await advance(1000);
    expect(server.docs.get(KEY)?.data).toEqual({ why: 'base', how: 'from the phone', next: 'mine' });
    expect(server.saves().at(-1)?.baseVersion).toBe(2);
  });

  it('fetches nothing for a version this page already has', async () => {
    server.put(KEY, { why: 'base', how: '', next: '' }, 3);
    const controller = await started();
    const loadsBefore = server.loads().length;
    controller.serverHasVersion(3);
    controller.serverHasVersion(2);
    await settle();
    expect(server.loads()).toHaveLength(loadsBefore);
  });
});
