/**
 * A save on the wire, for both of a step's sends (the normal one and the one made as the page
 * is left): the request that carries a snapshot, the record read from its answer, and what was
 * sent and not yet confirmed; and the server copies a load's and a 409's answers carry.
 */
import { createMergePatch, fingerprint, jsonEqual } from './merge.js';
import { HttpError } from './transport.js';
import { thisTabDeviceId } from './live/device.js';
import type { StepRecord } from './types.js';

/** How many sent-but-unconfirmed snapshots are remembered (as fingerprints). */
const MAX_UNCONFIRMED = 8;

/** One save as it goes on the wire. */
export interface SaveRequest {
  method: 'POST' | 'PATCH';
  path: string;
  body: string;
  headers: Record<string, string>;
}

export function stepPath(workshopType: string, stepId: string): string {
  return `/api/workshop-data/step/${encodeURIComponent(workshopType)}/${encodeURIComponent(stepId)}`;
}

/**
 * The request that saves `snapshot` on `baseVersion`: a merge patch (PATCH) of what changed
 * since `serverCopy` (that version) when there is one and the change can be written as one,
 * so its size does not depend on the document's; else the whole document (POST).
 */
export function buildSaveRequest<T extends object>(
  step: { workshopType: string; stepId: string },
  snapshot: T,
  baseVersion: number,
  requestId: string,
  serverCopy: T | null,
  schemaVersion?: number,
): SaveRequest {
  const patch = serverCopy ? createMergePatch(serverCopy, snapshot) : null;
  const versioned = schemaVersion !== undefined;
  if (patch) {
    return {
      method: 'PATCH',
      path: stepPath(step.workshopType, step.stepId),
      body: JSON.stringify(patch),
      headers: {
        'Content-Type': 'application/merge-patch+json',
        'If-Match': `"${baseVersion}"`,
        'Idempotency-Key': requestId,
        'X-Device-Id': thisTabDeviceId(),
        ...(versioned ? { 'X-Schema-Version': String(schemaVersion) } : {}),
      },
    };
  }
  const body = { workshopType: step.workshopType, stepId: step.stepId, data: snapshot, baseVersion, requestId };
  return {
    method: 'POST',
    path: '/api/workshop-data/step',
    body: JSON.stringify(versioned ? { ...body, schemaVersion } : body),
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': requestId, 'X-Device-Id': thisTabDeviceId() },
  };
}

/** The stored record in a save's answer, or null when the answer is not one. */
export function storedRecord<T extends object>(body: unknown): StepRecord<T> | null {
  const record = (body as { data?: StepRecord<T> } | null | undefined)?.data;
  if (!record || typeof record !== 'object' || typeof record.version !== 'number') return null;
  if (!record.data || typeof record.data !== 'object') return null;
  return record;
}

/**
 * What a step sent and the server has not confirmed: the fingerprints of those snapshots
 * (finding one on the server later is this page's own write, not someone else's), and the
 * request id of the last one (a retry of the same snapshot reuses it, so the server
 * recognises it).
 */
export class SentSnapshots<T> {
  private unconfirmed: string[] = [];
  private last: { data: T; requestId: string } | null = null;

  constructor(
    private readonly random: () => number,
    private readonly now: () => number,
  ) {}

  /** Fingerprints of the unconfirmed snapshots, oldest first. */
  get fingerprints(): string[] {
    return [...this.unconfirmed];
  }

  /** Take on what an earlier page on this device sent (read from the journal). */
  restore(sent: string[]): void {
    this.unconfirmed = [...sent, ...this.unconfirmed].slice(-MAX_UNCONFIRMED);
  }

  /** Note a snapshot as sent. */
  mark(snapshot: T): void {
    const print = fingerprint(snapshot);
    this.unconfirmed = [...this.unconfirmed.filter((p) => p !== print), print].slice(-MAX_UNCONFIRMED);
  }

  /** Is `data` a snapshot this page (or this device, before a reload) sent? Forget it and
   * everything sent before it. */
  takeOwn(data: T): boolean {
    const index = this.unconfirmed.indexOf(fingerprint(data));
    if (index < 0) return false;
    this.unconfirmed = this.unconfirmed.slice(index + 1);
    return true;
  }

  /** The server stored `data`: a later send of it is a new request. */
  confirmed(data: T): void {
    if (this.last && jsonEqual(this.last.data, data)) this.last = null;
  }

  /** Nothing sent is awaited any more (the step locked). */
  forget(): void {
    this.last = null;
    this.unconfirmed = [];
  }

  requestIdFor(snapshot: T): string {
    if (this.last && jsonEqual(this.last.data, snapshot)) return this.last.requestId;
    const requestId = this.newRequestId();
    this.last = { data: snapshot, requestId };
    return requestId;
  }

  private newRequestId(): string {
    if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const part = () => Math.floor(this.random() * 2 ** 32).toString(16).padStart(8, '0');
    return `${this.now().toString(16)}-${part()}-${part()}-${part()}`;
  }
}

/** The answer to a load (GET of a step). */
export interface LoadResponse {
  success: true;
  data: Record<string, unknown> | null;
  version: number | null;
  /** The schema version `data` was written in (servers before schema versions: absent). */
  schemaVersion?: number | null;
  updatedAt: string | null;
  /** The workshop is completed and this step's section locks (servers before it: absent). */
  locked?: boolean;
  lockedSince?: string | null;
}

/** The server copy a 409 (`version_conflict`) answer carries, or null for any other failure. */
export function conflictCopy(error: unknown): { data: object | null; version: number; schemaVersion: number | null | undefined } | null {
  if (!(error instanceof HttpError) || error.status !== 409 || error.body?.code !== 'version_conflict') return null;
  const current = (error.body.current ?? {}) as { data?: Record<string, unknown> | null; version?: number | null; schemaVersion?: unknown };
  return {
    data: current.data ?? null,
    version: typeof current.version === 'number' ? current.version : 0,
    schemaVersion: schemaVersionOf(current.schemaVersion),
  };
}

/** A schema version as a server or a tab sent it: a number, null (none declared), or
 * undefined (not said: a server or an app before schema versions). */
export function schemaVersionOf(value: unknown): number | null | undefined {
  if (value === null) return null;
  return typeof value === 'number' ? value : undefined;
}
