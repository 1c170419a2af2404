// @vitest-environment node
import { describe, expect, it, vi } from 'vitest';

import { migrateStepData, needsMigration, type MigrateStepData } from './schemaVersion.js';

/** Version 2 renamed `reflection` to `why`; version 3 split `name` into `first` and `last`. */
const migrate: MigrateStepData = (data, from) => {
  let next = { ...data };
  if (from === null || from < 2) {
    const { reflection, ...rest } = next;
    next = { ...rest, why: reflection ?? '' };
  }
  if (from === null || from < 3) {
    const { name, ...rest } = next;
    const [first = '', ...last] = String(name ?? '').split(' ');
    next = { ...rest, first, last: last.join(' ') };
  }
  return next;
};

describe('needsMigration', () => {
  it('migrates data of an older or no version, never without a current version or newer data', () => {
    expect(needsMigration(null, 2)).toBe(true);
    expect(needsMigration(1, 2)).toBe(true);
    expect(needsMigration(2, 2)).toBe(false);
    expect(needsMigration(3, 2)).toBe(false);
    expect(needsMigration(1, undefined)).toBe(false);
  });
});

describe('migrateStepData', () => {
  it('renames and splits fields of old data', () => {
    expect(migrateStepData({ reflection: 'Because', name: 'Ada Lovelace' }, null, 3, migrate)).toEqual({
      data: { why: 'Because', first: 'Ada', last: 'Lovelace' },
      migrated: true,
    });
    expect(migrateStepData({ why: 'Because', name: 'Ada King Lovelace' }, 2, 3, migrate)).toEqual({
      data: { why: 'Because', first: 'Ada', last: 'King Lovelace' },
      migrated: true,
    });
  });

  it('leaves current and newer data alone', () => {
    const data = { why: 'x', first: 'a', last: 'b' };
    expect(migrateStepData(data, 3, 3, migrate)).toEqual({ data, migrated: false });
    expect(migrateStepData({ future: 1 }, 4, 3, migrate)).toEqual({ data: { future: 1 }, migrated: false });
  });

  it('does not change the data it was given', () => {
    const data = { reflection: 'Because', nested: { a: 1 } };
    migrateStepData(data, 1, 2, (d) => {
      (d['nested'] as { a: number }).a = 2;
      return d;
    });
    expect(data).toEqual({ reflection: 'Because', nested: { a: 1 } });
  });

  it('keeps the data as it was when migrate throws or returns no object', () => {
    const onError = vi.fn();
    const data = { reflection: 'Because' };
    expect(migrateStepData(data, 1, 2, () => { throw new Error('bad'); }, onError)).toEqual({ data, migrated: false });
    expect(migrateStepData(data, 1, 2, () => null as unknown as object, onError)).toEqual({ data, migrated: false });
    expect(onError).toHaveBeenCalledTimes(2);
  });

  it('takes old data as it is, to be saved in the current version, when there is no migrate', () => {
    expect(migrateStepData({ a: 1 }, null, 2, undefined)).toEqual({ data: { a: 1 }, migrated: true });
  });
});
