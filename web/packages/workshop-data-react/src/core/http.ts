/**
 * The performers of the browser: each kind of work as requests to a Workshop Data server,
 * with the same request rules as a step's own saves (If-Match with the version it is based on,
 * an Idempotency-Key, merge patches).
 */
import { buildSaveRequest, stepPath, type LoadResponse } from '../saveRequest.js';
import { HttpError, parseRetryAfter, requestJson } from '../transport.js';
import type { Performers } from './loop.js';
import { openStep } from './steps.js';
import type { StepChangeWork } from './work.js';

export interface HttpOptions {
  fetch?: typeof fetch;
  baseUrl?: string;
  now?: () => number;
  /**
   * Give a step change to the step's mounted controller, if one is open on this page (its
   * screen shows the change and its own loop saves it); true when taken. Default: the mounted
   * steps of this page.
   */
  applyToOpenStep?: (work: StepChangeWork, fields: Record<string, unknown>) => boolean;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function throughOpenStep(work: StepChangeWork, fields: Record<string, unknown>): boolean {
  const step = openStep(work.userId, work.workshopType, work.stepId);
  if (!step?.updateData || !step.getSnapshot().loaded) return false;
  (step.updateData as (patch: Record<string, unknown>) => void)(fields);
  return true;
}

export function httpPerformers(options: HttpOptions = {}): Performers {
  const fetchFn: typeof fetch = options.fetch ?? ((...args) => fetch(...args));
  const base = options.baseUrl ?? '';
  const now = options.now ?? Date.now;
  const applyToOpenStep = options.applyToOpenStep ?? throughOpenStep;
  return {
    async upload(work) {
      const response = await fetchFn(`${base}/api/uploads`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': work.blob.type || 'application/octet-stream', Accept: 'application/json' },
        body: work.blob,
      });
      type Answer = { upload?: { url?: unknown }; error?: unknown } | null;
      let body: Answer = null;
      try {
        body = (await response.json()) as Answer;
      } catch {
        body = null;
      }
      const url = typeof body?.upload?.url === 'string' ? body.upload.url : null;
      if (response.ok && url) return { url };
      const message = typeof body?.error === 'string' ? body.error : `The server answered ${response.status}.`;
      throw new HttpError(message, response.status, body as Record<string, unknown> | null, parseRetryAfter(response.headers?.get?.('Retry-After'), now()));
    },

    async stepChange(work, fields) {
      if (applyToOpenStep(work, fields)) return;
      // Read the step, then change just these fields on the version read (a 409 means someone
      // saved in between: the loop runs this again, which reads again).
      const path = stepPath(work.workshopType, work.stepId);
      const loaded = (await requestJson(fetchFn, `${base}${path}`, { method: 'GET' }, now)) as unknown as LoadResponse;
      const current = (loaded.data ?? null) as Record<string, unknown> | null;
      if (current && Object.entries(fields).every(([field, value]) => sameValue(current[field], value))) return;
      const version = typeof loaded.version === 'number' ? loaded.version : 0;
      const request = buildSaveRequest(
        { workshopType: work.workshopType, stepId: work.stepId },
        { ...(current ?? {}), ...fields },
        version,
        `${work.requestId}@${version}`,
        current,
        typeof loaded.schemaVersion === 'number' ? loaded.schemaVersion : undefined,
      );
      await requestJson(fetchFn, `${base}${request.path}`, { method: request.method, body: request.body, headers: request.headers }, now);
    },

    async progress(work) {
      return requestJson(
        fetchFn,
        `${base}/api/navigation-progress/${encodeURIComponent(work.workshopType)}`,
        {
          method: 'PUT',
          body: JSON.stringify({
            ...(work.currentStepId ? { currentStepId: work.currentStepId } : {}),
            completedSteps: work.completedSteps,
            unlockedSteps: work.unlockedSteps,
          }),
          headers: { 'Content-Type': 'application/json' },
        },
        now,
      );
    },
  };
}
