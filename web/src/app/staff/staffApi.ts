import { requestJson, type WorkshopType } from 'workshop-data-react';
import type { User } from '../api';

export interface Account {
  id: number;
  username: string;
  name: string;
  email: string | null;
  role: User['role'];
  facilitatorId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface AccountPage {
  users: Account[];
  page: number;
  pageSize: number;
  total: number;
}

export interface GridParticipant {
  userId: number;
  username: string;
  name: string;
  currentStepId: string | null;
  completedSteps: string[];
  startedAt: string | null;
  completedAt: string | null;
  lastActivityAt: string | null;
  steps: Record<string, { version: number; updatedAt: string }>;
}

export interface WorkshopGrid {
  workshopType: WorkshopType;
  participants: GridParticipant[];
  page: number;
  pageSize: number;
  total: number;
}

export interface SavedStep {
  data: Record<string, unknown>;
  version: number;
  updatedAt: string;
}

export interface NewAccount {
  username: string;
  password: string;
  role: User['role'];
  name?: string;
  email?: string | null;
  facilitatorId?: number | null;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await requestJson((input, init) => fetch(input, init), path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
  });
  return answer as T;
}

const GRID_PAGE_SIZE = 200;

export const staffApi = {
  /** Every page of the grid (a facilitator's participants rarely fill one). */
  grid: async (type: WorkshopType): Promise<GridParticipant[]> => {
    const rows: GridParticipant[] = [];
    for (let page = 1; ; page += 1) {
      const answer = await call<WorkshopGrid>('GET', `/api/facilitator/workshops/${type}/grid?page=${page}&pageSize=${GRID_PAGE_SIZE}`);
      rows.push(...answer.participants);
      if (page * GRID_PAGE_SIZE >= answer.total || answer.participants.length === 0) return rows;
    }
  },
  gridRow: (type: WorkshopType, userId: number) =>
    call<WorkshopGrid>('GET', `/api/facilitator/workshops/${type}/grid?userId=${userId}`).then((g) => g.participants[0] ?? null),
  participantSteps: (userId: number, type: WorkshopType) =>
    call<{ steps: Record<string, SavedStep> }>('GET', `/api/facilitator/participants/${userId}/step-data/${type}`).then((r) => r.steps),
  users: (q: string, page: number, pageSize = 50) =>
    call<AccountPage>('GET', `/api/admin/users?${new URLSearchParams({ q, page: String(page), pageSize: String(pageSize) }).toString()}`),
  createUser: (account: NewAccount) => call<{ user: Account }>('POST', '/api/admin/users', account).then((r) => r.user),
  updateUser: (id: number, changes: Partial<Pick<Account, 'role' | 'facilitatorId' | 'name' | 'email'>>) =>
    call<{ user: Account }>('PATCH', `/api/admin/users/${id}`, changes).then((r) => r.user),
  resetPassword: (id: number, password: string) =>
    call<{ user: Account; sessionsEnded: number }>('POST', `/api/admin/users/${id}/password`, { password }),
  deleteUser: (id: number) => call<{ deleted: Account }>('DELETE', `/api/admin/users/${id}`).then((r) => r.deleted),
  reopen: (id: number, type: WorkshopType) => call<unknown>('POST', `/api/admin/users/${id}/workshops/${type}/reopen`),
};
