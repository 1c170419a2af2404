import { requestJson, type WorkshopType } from 'workshop-data-react';

export interface User {
  id: number;
  username: string;
  name: string;
  email: string | null;
  role: 'participant' | 'facilitator' | 'admin';
}

export interface CatalogStep {
  id: string;
  title: string;
  required: boolean;
  /** 'visited': completed once opened; 'answered': once a saved answer is non-empty. */
  completedWhen: 'visited' | 'answered';
  /** For 'answered': the fields that must all be non-empty (null: any field). */
  answerFields: string[] | null;
}

export interface CatalogSection {
  number: number;
  key: string;
  title: string;
  locksOnCompletion: boolean;
  steps: CatalogStep[];
}

export interface CatalogWorkshop {
  type: WorkshopType;
  name: string;
  sections: CatalogSection[];
}

export interface WorkshopStatus {
  workshopType: WorkshopType;
  completed: boolean;
  completedAt: string | null;
  locked: boolean;
}

export interface NavigationProgress {
  workshopType: WorkshopType;
  currentStepId: string | null;
  completedSteps: string[];
  unlockedSteps: string[];
  version: number | null;
}

export interface ProgressReport {
  currentStepId?: string;
  completedSteps?: string[];
  unlockedSteps?: string[];
}

export interface HistoryVersion {
  version: number;
  savedAt: string;
  size: number;
  preview: string;
  current: boolean;
  /** `device`: this or another device's own text, kept before a merge replaced it. */
  source?: 'save' | 'device';
}

export interface StepHistory {
  currentVersion: number | null;
  versions: HistoryVersion[];
  retention: string;
}

/** The one HTTP client of the app and the hook: a failed answer rejects with the hook's
 * HttpError (`status`, the server's `error` as its message, its body). */
async function call<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  const answer = await requestJson((input, init) => fetch(input, init), path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...extraHeaders },
  });
  return answer as T;
}

export const api = {
  me: () => call<{ user: User }>('GET', '/api/auth/me').then((r) => r.user),
  login: (username: string, password: string) =>
    call<{ user: User }>('POST', '/api/auth/login', { username, password }).then((r) => r.user),
  catalog: () => call<{ workshops: CatalogWorkshop[] }>('GET', '/api/catalog').then((r) => r.workshops),
  status: (type: WorkshopType) => call<WorkshopStatus>('GET', `/api/workshop-data/status/${type}`),
  complete: (type: WorkshopType) => call<WorkshopStatus>('POST', `/api/workshop-data/complete/${type}`),
  history: (type: WorkshopType, stepId: string) =>
    call<StepHistory>('GET', `/api/workshop-data/step/${type}/${encodeURIComponent(stepId)}/history`),
  restore: (type: WorkshopType, stepId: string, version: number, baseVersion: number | null, key: string) =>
    call<{ data: { version: number } }>(
      'POST',
      `/api/workshop-data/step/${type}/${encodeURIComponent(stepId)}/restore/${version}`,
      baseVersion === null ? {} : { baseVersion },
      { 'Idempotency-Key': key },
    ),
  progress: (type: WorkshopType) => call<NavigationProgress>('GET', `/api/navigation-progress/${type}`),
  reportProgress: (type: WorkshopType, report: ProgressReport) =>
    call<NavigationProgress>('PUT', `/api/navigation-progress/${type}`, report),
};

/** The session's device cookie is the session cookie's name plus this ("wd_session_device"
 * by default). The session cookie is HttpOnly; this one the page can read and delete, and the
 * server accepts neither without the other. */
const DEVICE_COOKIE_SUFFIX = '_device';

/** Deletes the session's device cookie from this browser, with the attributes the server set
 * it with (Path=/, SameSite=Lax, Secure on https): from then on this browser holds no working
 * session, whether or not the server ever hears of the sign-out. */
export function forgetSessionOnThisDevice(doc: Document = document): void {
  const secure = doc.location?.protocol === 'https:' ? '; Secure' : '';
  for (const part of doc.cookie.split(';')) {
    const name = (part.split('=', 1)[0] ?? '').trim();
    if (name.endsWith(DEVICE_COOKIE_SUFFIX)) {
      doc.cookie = `${name}=; Max-Age=0; Path=/; SameSite=Lax${secure}`;
    }
  }
}

/** Sign-out's part that ends the session: at once on this browser, even offline (the device
 * cookie goes first), then on the server when it can be reached (a failure is no failure of the
 * sign-out: the session cookie left behind is worthless without the device cookie). */
export async function endSessionOnThisDevice(): Promise<void> {
  forgetSessionOnThisDevice();
  await call<unknown>('POST', '/api/auth/logout').catch(() => undefined);
}
