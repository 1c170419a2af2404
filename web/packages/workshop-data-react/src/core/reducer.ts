/**
 * The pure reducer over the participant's pending work, and what the loop reads from its
 * state. No clock, no randomness, no I/O: the loop passes `now` and `jitter` in the actions.
 */
import { DEFAULT_CONFIG, type Action, type Entry, type Failure, type SyncConfig, type SyncState, type WorkItem, type WorkStatus } from './work.js';

export function initialState(config: Partial<SyncConfig> = {}, online = true): SyncState {
  return { entries: {}, online, signedOut: false, config: { ...DEFAULT_CONFIG, ...config } };
}

/** Exponential backoff with jitter: between half and all of base·2^attempt (at most retryMaxMs),
 * or the server's Retry-After (at most retryAfterCapMs) if that is longer. */
export function retryDelay(config: SyncConfig, attempt: number, jitter: number, retryAfterMs: number | null): number {
  const exponential = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** attempt);
  const delay = exponential / 2 + (jitter * exponential) / 2;
  if (retryAfterMs === null) return delay;
  return Math.max(delay, Math.min(retryAfterMs, config.retryAfterCapMs));
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** When an item just queued is due: progress after a pause (bounded by maxWait), the rest at once. */
function dueAt(config: SyncConfig, work: WorkItem, now: number, firstAt: number): number | null {
  if (work.kind !== 'progress') return null;
  return Math.min(now + config.progressDebounceMs, firstAt + config.progressMaxWaitMs);
}

function fresh(config: SyncConfig, work: WorkItem, now: number, revision: number): WorkStatus {
  return {
    phase: work.kind === 'upload' && work.url ? 'uploaded' : 'storing',
    revision,
    attempt: 0,
    conflicts: 0,
    dueAt: dueAt(config, work, now, now),
    firstAt: now,
    retryAt: null,
    error: null,
    kept: false,
    keepError: null,
  };
}

/** A progress report merged into the one still unsent (grow-only sets; the newest current step). */
function mergeProgress(older: WorkItem, newer: WorkItem): WorkItem {
  if (older.kind !== 'progress' || newer.kind !== 'progress') return newer;
  return {
    ...newer,
    createdAt: older.createdAt,
    currentStepId: newer.currentStepId ?? older.currentStepId,
    completedSteps: union(older.completedSteps, newer.completedSteps),
    unlockedSteps: union(older.unlockedSteps, newer.unlockedSteps),
  };
}

function queue(state: SyncState, work: WorkItem[], now: number): SyncState {
  const entries = { ...state.entries };
  for (const item of work) {
    const old = entries[item.id];
    const revision = (old?.status.revision ?? 0) + 1;
    if (old && item.kind === 'progress') {
      const merged = mergeProgress(old.work, item);
      const firstAt = old.status.phase === 'sending' ? now : old.status.firstAt;
      entries[item.id] = {
        work: merged,
        status: { ...old.status, revision, phase: 'storing', kept: false, firstAt, dueAt: dueAt(state.config, merged, now, firstAt) },
      };
    } else {
      entries[item.id] = { work: item, status: fresh(state.config, item, now, revision) };
    }
  }
  return { ...state, entries };
}

function sameProgress(a: WorkItem, b: WorkItem): boolean {
  if (a.kind !== 'progress' || b.kind !== 'progress') return false;
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v) => y.includes(v));
  return a.currentStepId === b.currentStepId && same(a.completedSteps, b.completedSteps) && same(a.unlockedSteps, b.unlockedSteps);
}

function restore(state: SyncState, work: WorkItem[], now: number): SyncState {
  const entries = { ...state.entries };
  let changed = false;
  for (const item of work) {
    const known = entries[item.id];
    if (known && item.kind === 'progress' && known.work.kind === 'progress') {
      // A report made before the device was read: the device's steps join it (grow-only).
      const merged = mergeProgress(item, known.work);
      if (sameProgress(merged, known.work)) continue;
      changed = true;
      entries[item.id] = {
        work: merged,
        status: { ...known.status, revision: known.status.revision + 1, phase: known.status.phase === 'sending' ? 'queued' : known.status.phase, kept: false },
      };
      continue;
    }
    if (known) continue;
    changed = true;
    const status = fresh(state.config, item, now, 1);
    entries[item.id] = { work: item, status: { ...status, phase: status.phase === 'storing' ? 'queued' : status.phase, kept: true, dueAt: null } };
  }
  return changed ? { ...state, entries } : state;
}

function update(state: SyncState, id: string, revision: number, change: (entry: Entry) => Entry | null): SyncState {
  const entry = state.entries[id];
  if (!entry || entry.status.revision !== revision) return state;
  const entries = { ...state.entries };
  const next = change(entry);
  if (next) entries[id] = next;
  else delete entries[id];
  return { ...state, entries };
}

function withStatus(entry: Entry, patch: Partial<WorkStatus>): Entry {
  return { ...entry, status: { ...entry.status, ...patch } };
}

function succeeded(state: SyncState, id: string, revision: number, url: string | undefined): SyncState {
  const entry = state.entries[id];
  if (!entry || entry.status.revision !== revision) return state;
  const reset = { attempt: 0, conflicts: 0, retryAt: null, error: null };
  if (entry.work.kind === 'upload') {
    return update(state, id, revision, (e) => ({ work: { ...(e.work as typeof entry.work), url: url ?? null }, status: { ...e.status, ...reset, phase: 'uploaded' } }));
  }
  let next = update(state, id, revision, () => null);
  if (entry.work.kind === 'step-change' && entry.work.uploadId) {
    // The step refers to the upload now: the device need not keep the image.
    const entries = { ...next.entries };
    delete entries[entry.work.uploadId];
    next = { ...next, entries };
  }
  return next;
}

function failed(state: SyncState, id: string, revision: number, failure: Failure, now: number, jitter: number): SyncState {
  const config = state.config;
  let next = update(state, id, revision, (entry) => {
    const { attempt, conflicts } = entry.status;
    switch (failure.kind) {
      case 'unauthorized':
        return withStatus(entry, { phase: 'queued', dueAt: null, error: failure.message });
      case 'locked':
      case 'final':
        return withStatus(entry, { phase: 'failed', retryAt: null, error: failure.message });
      case 'conflict':
        if (conflicts < config.maxConflictRetries) {
          // Someone else saved the step: read it again and re-apply just these fields, at once.
          return withStatus(entry, { phase: 'queued', dueAt: null, conflicts: conflicts + 1, error: null });
        }
        return withStatus(entry, {
          phase: 'waiting',
          attempt: attempt + 1,
          conflicts: 0,
          retryAt: now + retryDelay(config, attempt, jitter, null),
          error: 'This step keeps changing elsewhere; trying again shortly.',
        });
      case 'network':
      case 'retryable':
        return withStatus(entry, {
          phase: 'waiting',
          attempt: attempt + 1,
          retryAt: now + retryDelay(config, attempt, jitter, failure.kind === 'retryable' ? failure.retryAfterMs : null),
          error: failure.message,
        });
    }
  });
  if (failure.kind === 'unauthorized' && next !== state) next = { ...next, signedOut: true };
  return next;
}

function retryAll(state: SyncState): SyncState {
  const entries: Record<string, Entry> = {};
  for (const [id, entry] of Object.entries(state.entries)) {
    entries[id] = entry.status.phase === 'waiting' ? withStatus(entry, { phase: 'queued', dueAt: null, retryAt: null, attempt: 0 }) : entry;
  }
  return { ...state, entries };
}

export function reduce(state: SyncState, action: Action): SyncState {
  switch (action.type) {
    case 'queued':
      return queue(state, action.work, action.now);
    case 'restored':
      return restore(state, action.work, action.now);
    case 'kept': {
      let next = state;
      for (const id of action.ids) {
        next = update(next, id, action.revisions[id] ?? -1, (entry) =>
          withStatus(entry, {
            kept: action.kept,
            keepError: action.keepError,
            phase: entry.status.phase === 'storing' ? 'queued' : entry.status.phase,
          }),
        );
      }
      return next;
    }
    case 'sending':
      return update(state, action.id, action.revision, (entry) => withStatus(entry, { phase: 'sending', retryAt: null }));
    case 'succeeded':
      return succeeded(state, action.id, action.revision, action.url);
    case 'failed':
      return failed(state, action.id, action.revision, action.failure, action.now, action.jitter);
    case 'removed': {
      const entries = { ...state.entries };
      let changed = false;
      for (const id of action.ids) {
        if (entries[id]) {
          delete entries[id];
          changed = true;
        }
      }
      return changed ? { ...state, entries } : state;
    }
    case 'online':
      // "online" always tries again: the browser may never have said it was offline.
      if (action.online) return retryAll({ ...state, online: true });
      return state.online ? { ...state, online: false } : state;
    case 'retry-now':
      return retryAll(state);
    case 'signed-in':
      return state.signedOut ? { ...state, signedOut: false } : state;
  }
}

// ---- reading the state ---------------------------------------------------------------------

function blockedBy(state: SyncState, entry: Entry): boolean {
  const work = entry.work;
  if (work.kind !== 'step-change' || !work.uploadId) return false;
  const upload = state.entries[work.uploadId]?.work;
  return !(upload?.kind === 'upload' && upload.url);
}

/** The items to send now (oldest first), within the free slots of `concurrency`. */
export function dueItems(state: SyncState, now: number): Entry[] {
  if (!state.online || state.signedOut) return [];
  const all = Object.values(state.entries);
  const free = state.config.concurrency - all.filter((e) => e.status.phase === 'sending').length;
  if (free <= 0) return [];
  return all
    .filter(
      (e) =>
        ((e.status.phase === 'queued' && (e.status.dueAt === null || e.status.dueAt <= now)) ||
          (e.status.phase === 'waiting' && e.status.retryAt !== null && e.status.retryAt <= now)) &&
        !blockedBy(state, e),
    )
    .sort((a, b) => a.work.createdAt - b.work.createdAt)
    .slice(0, free);
}

/** When the loop must look again (the next debounce or retry), or null. */
export function nextWakeAt(state: SyncState): number | null {
  let next: number | null = null;
  for (const e of Object.values(state.entries)) {
    const at = e.status.phase === 'queued' ? e.status.dueAt : e.status.phase === 'waiting' ? e.status.retryAt : null;
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

/** Is this item still to reach the server? An upload is, until the step refers to it (when a
 * step change waits for it) or until the server has it (otherwise). */
export function isPending(state: SyncState, entry: Entry): boolean {
  if (entry.work.kind !== 'upload') return true;
  if (entry.status.phase !== 'uploaded') return true;
  const id = entry.work.id;
  return Object.values(state.entries).some((e) => e.work.kind === 'step-change' && e.work.uploadId === id);
}

export interface PendingCounts {
  /** Images not yet uploaded or not yet referred to by their step. */
  images: number;
  /** Changes of steps made by the core (not by a step's own controller). */
  stepChanges: number;
  /** Workshops whose navigation progress the server has not got. */
  progress: number;
  /** Items refused for good (their `error`). */
  failed: string[];
}

export function pendingCounts(state: SyncState, userId?: string | number | null): PendingCounts {
  const counts: PendingCounts = { images: 0, stepChanges: 0, progress: 0, failed: [] };
  for (const entry of Object.values(state.entries)) {
    if (userId != null && entry.work.userId !== String(userId)) continue;
    if (!isPending(state, entry)) continue;
    if (entry.status.phase === 'failed') counts.failed.push(entry.status.error ?? 'refused');
    if (entry.work.kind === 'upload') counts.images += 1;
    else if (entry.work.kind === 'progress') counts.progress += 1;
    // A step change that waits for its image is counted as the image.
    else if (!entry.work.uploadId || !state.entries[entry.work.uploadId] || !isPending(state, state.entries[entry.work.uploadId]!)) {
      counts.stepChanges += 1;
    }
  }
  return counts;
}
