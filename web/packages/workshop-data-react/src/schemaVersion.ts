/**
 * Step data outlives the code that wrote it. A step declares the schema version its code
 * writes (`schemaVersion`) and how to bring older data up to it (`migrate`); every saved
 * record carries the version it was written with (null: written before any was declared).
 */
import type { StepDocument } from './types.js';

/** Bring data written in `fromVersion` (null: no version declared) up to the current one
 * (fields it leaves out get initialData's defaults). */
export type MigrateStepData = (data: StepDocument, fromVersion: number | null) => object;

export interface Migrated<T> {
  data: T;
  /** migrate() ran (the data must be saved back once in the current version). */
  migrated: boolean;
}

/** Does data written in `stored` need migrating to `current`? Not when no version is declared,
 * when it is already current, or when newer code wrote it (that code knows its shape). */
export function needsMigration(stored: number | null | undefined, current: number | undefined): boolean {
  if (current === undefined) return false;
  return stored == null || stored < current;
}

/**
 * `data` as the current code expects it: migrated when it was written in an older version
 * (or none). A migrate() that throws leaves the data as it was (nothing is lost, nothing saved
 * back) and the error is passed to `onError`.
 */
export function migrateStepData(
  data: StepDocument,
  stored: number | null | undefined,
  current: number | undefined,
  migrate: MigrateStepData | undefined,
  onError?: (error: Error) => void,
): Migrated<StepDocument> {
  if (!needsMigration(stored, current)) return { data, migrated: false };
  if (!migrate) return { data, migrated: true };
  try {
    const result = migrate(structuredClone(data), stored ?? null);
    if (result === null || typeof result !== 'object' || Array.isArray(result)) {
      throw new TypeError('migrate() must return the step data as an object.');
    }
    return { data: result as StepDocument, migrated: true };
  } catch (error) {
    onError?.(error instanceof Error ? error : new Error(String(error)));
    return { data, migrated: false };
  }
}
