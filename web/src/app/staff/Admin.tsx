import { useCallback, useEffect, useState, type FormEvent } from 'react';

import type { CatalogWorkshop, User } from '../api';
import { downloadText } from './csv';
import { staffApi, type Account, type AccountPage } from './staffApi';

const PAGE_SIZE = 25;
const ROLES: User['role'][] = ['participant', 'facilitator', 'admin'];

function named(account: Account): string {
  return account.name ? `${account.username} (${account.name})` : account.username;
}

/** Every facilitator, for the "facilitator" choices. */
async function allFacilitators(): Promise<Account[]> {
  const found: Account[] = [];
  for (let page = 1; ; page += 1) {
    const answer = await staffApi.users('', page, 200);
    found.push(...answer.users.filter((u) => u.role === 'facilitator'));
    if (page * 200 >= answer.total || answer.users.length === 0) return found;
  }
}

/** Downloads every user's export as one file, a JSON document per line (as `workshop-data
 * export --all`), one user at a time. */
async function exportEveryone(onProgress: (done: number, total: number) => void): Promise<void> {
  const lines: string[] = [];
  let total = 0;
  for (let page = 1; ; page += 1) {
    const answer = await staffApi.users('', page, 200);
    total = answer.total;
    for (const user of answer.users) {
      const response = await fetch(`/api/export/users/${user.id}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`The export of ${user.username} failed (${response.status}).`);
      lines.push(JSON.stringify(await response.json()));
      onProgress(lines.length, total);
    }
    if (page * 200 >= answer.total || answer.users.length === 0) break;
  }
  downloadText(lines.join('\n') + '\n', `workshop-data-everyone-${new Date().toISOString().slice(0, 10)}.ndjson`, 'application/x-ndjson');
}

function CreateUser({ facilitators, onCreated, onError }: { facilitators: Account[]; onCreated: (a: Account) => void; onError: (err: unknown) => string }) {
  const [form, setForm] = useState({ username: '', name: '', email: '', password: '', role: 'participant' as User['role'], facilitatorId: '' });
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const created = await staffApi.createUser({
        username: form.username,
        password: form.password,
        role: form.role,
        name: form.name,
        email: form.email || null,
        facilitatorId: form.role === 'participant' && form.facilitatorId ? Number(form.facilitatorId) : null,
      });
      setForm({ username: '', name: '', email: '', password: '', role: 'participant', facilitatorId: '' });
      setMessage(`Created ${named(created)}.`);
      onCreated(created);
    } catch (err) {
      setMessage(onError(err));
    } finally {
      setBusy(false);
    }
  };
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  return (
    <form className="admin-form" onSubmit={(e) => void submit(e)} aria-labelledby="create-title">
      <h2 id="create-title">Create a user</h2>
      <div className="admin-form__fields">
        <label className="field">Username<input value={form.username} onChange={set('username')} required autoComplete="off" /></label>
        <label className="field">Name<input value={form.name} onChange={set('name')} autoComplete="off" /></label>
        <label className="field">E-mail<input type="email" value={form.email} onChange={set('email')} autoComplete="off" /></label>
        <label className="field">Password<input type="password" value={form.password} onChange={set('password')} required autoComplete="new-password" /></label>
        <label className="field">Role
          <select value={form.role} onChange={set('role')}>{ROLES.map((r) => <option key={r} value={r}>{r}</option>)}</select>
        </label>
        {form.role === 'participant' ? (
          <label className="field">Facilitator
            <select value={form.facilitatorId} onChange={set('facilitatorId')}>
              <option value="">(none)</option>
              {facilitators.map((f) => <option key={f.id} value={f.id}>{named(f)}</option>)}
            </select>
          </label>
        ) : null}
      </div>
      <button type="submit" disabled={busy}>Create user</button>
      {message ? <p role="status">{message}</p> : null}
    </form>
  );
}

function ManageUser({ account, catalog, facilitators, onChanged, onDeleted, onError }: {
  account: Account;
  catalog: CatalogWorkshop[];
  facilitators: Account[];
  onChanged: (a: Account) => void;
  onDeleted: (a: Account) => void;
  onError: (err: unknown) => string;
}) {
  const [message, setMessage] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setMessage(null);
    setPassword('');
    setConfirming(false);
  }, [account.id]);

  const run = async (action: () => Promise<string>) => {
    setBusy(true);
    try {
      setMessage(await action());
    } catch (err) {
      setMessage(onError(err));
    } finally {
      setBusy(false);
    }
  };
  const change = (changes: Partial<Pick<Account, 'role' | 'facilitatorId'>>) =>
    run(async () => {
      const updated = await staffApi.updateUser(account.id, changes);
      onChanged(updated);
      return `Saved: ${named(updated)} is a ${updated.role}.`;
    });

  return (
    <section className="manage" aria-labelledby="manage-title" data-testid="manage-user">
      <h2 id="manage-title">{named(account)}</h2>
      <div className="admin-form__fields">
        <label className="field">Role
          <select value={account.role} disabled={busy} onChange={(e) => void change({ role: e.target.value as User['role'] })}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        {account.role === 'participant' ? (
          <label className="field">Facilitator
            <select value={account.facilitatorId ?? ''} disabled={busy}
              onChange={(e) => void change({ facilitatorId: e.target.value ? Number(e.target.value) : null })}>
              <option value="">(none)</option>
              {facilitators.map((f) => <option key={f.id} value={f.id}>{named(f)}</option>)}
            </select>
          </label>
        ) : null}
      </div>

      <form className="inline" onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const done = await staffApi.resetPassword(account.id, password);
          setPassword('');
          return `New password set for ${account.username}; ${done.sessionsEnded} session(s) ended.`;
        });
      }}>
        <label className="field">New password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoComplete="new-password" />
        </label>
        <button type="submit" disabled={busy || !password}>Reset password</button>
      </form>

      <div className="inline">
        {catalog.map((w) => (
          <button key={w.type} type="button" className="secondary" disabled={busy}
            onClick={() => void run(async () => {
              await staffApi.reopen(account.id, w.type);
              return `${w.name} is open again for ${account.username}.`;
            })}>
            Reopen {w.name}
          </button>
        ))}
        <a className="button-link" href={`/api/export/users/${account.id}`} download>Export {account.username}</a>
      </div>

      {confirming ? (
        <div className="confirm" role="alertdialog" aria-labelledby="confirm-text">
          <p id="confirm-text">
            Delete <strong>{named(account)}</strong>? This deletes their account and everything they own — every workshop
            answer, their progress, assessments, uploaded images and sessions (they are signed out).
            {account.role === 'facilitator' ? ' Their participants are left without a facilitator.' : ''} This cannot be undone.
          </p>
          <div className="inline">
            <button type="button" className="danger" disabled={busy}
              onClick={() => void run(async () => {
                const deleted = await staffApi.deleteUser(account.id);
                onDeleted(deleted);
                return `Deleted ${named(deleted)}.`;
              })}>
              Delete {account.username}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>Cancel</button>
          </div>
        </div>
      ) : (
        <button type="button" className="secondary" onClick={() => setConfirming(true)}>Delete…</button>
      )}
      {message ? <p role="status" data-testid="manage-message">{message}</p> : null}
    </section>
  );
}

/** The administrator's page: users (search, create, change, reset a password, delete),
 * reopening a workshop, exports. */
export function Admin({ catalog, onError }: { catalog: CatalogWorkshop[]; onError: (err: unknown) => string }) {
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [list, setList] = useState<AccountPage | null>(null);
  const [selected, setSelected] = useState<Account | null>(null);
  const [facilitators, setFacilitators] = useState<Account[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportBusy, setExportBusy] = useState(false);

  const load = useCallback(() => {
    staffApi.users(q, page, PAGE_SIZE).then(setList, (err: unknown) => setError(onError(err)));
    allFacilitators().then(setFacilitators, () => undefined);
  }, [q, page, onError]);
  useEffect(() => {
    const timer = setTimeout(load, 200);
    return () => clearTimeout(timer);
  }, [load]);

  const facilitatorName = (id: number | null) => {
    const found = facilitators.find((f) => f.id === id);
    return id === null ? '—' : found ? found.username : `#${id}`;
  };
  const pages = list ? Math.max(1, Math.ceil(list.total / PAGE_SIZE)) : 1;

  return (
    <div className="admin">
      <h1 id="page-title" tabIndex={-1}>Administration</h1>
      {error ? <p className="error-text" role="alert">{error}</p> : null}
      <section aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        <label className="field">Search (username, name or e-mail)
          <input type="search" value={q} onChange={(e) => { setQ(e.target.value); setPage(1); }} />
        </label>
        {list === null ? <p className="loading">Loading…</p> : (
          <>
            <div className="grid-scroll">
              <table className="users" data-testid="users">
                <thead><tr><th scope="col">Username</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Facilitator</th><th scope="col"><span className="visually-hidden">Actions</span></th></tr></thead>
                <tbody>
                  {list.users.map((u) => (
                    <tr key={u.id} data-user={u.username} aria-selected={selected?.id === u.id}>
                      <td>{u.username}</td><td>{u.name}</td><td>{u.role}</td><td>{facilitatorName(u.facilitatorId)}</td>
                      <td><button type="button" className="secondary" onClick={() => setSelected(u)}>Manage<span className="visually-hidden"> {u.username}</span></button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="pager-line">
              <button type="button" className="secondary" disabled={page <= 1} onClick={() => setPage((p) => p - 1)}>Previous</button>
              {' '}Page {page} of {pages} ({list.total} users){' '}
              <button type="button" className="secondary" disabled={page >= pages} onClick={() => setPage((p) => p + 1)}>Next</button>
            </p>
          </>
        )}
      </section>
      {selected ? (
        <ManageUser account={selected} catalog={catalog} facilitators={facilitators} onError={onError}
          onChanged={(a) => { setSelected(a); load(); }}
          onDeleted={() => { setSelected(null); load(); }} />
      ) : null}
      <CreateUser facilitators={facilitators} onError={onError} onCreated={(a) => { setSelected(a); load(); }} />
      <section aria-labelledby="export-title">
        <h2 id="export-title">Export</h2>
        <p>One user's data: "Export" beside them above. Everyone's: one file, a JSON document per user per line.</p>
        <button type="button" className="secondary" disabled={exportBusy}
          onClick={() => {
            setExportBusy(true);
            setExporting('Starting…');
            exportEveryone((done, total) => setExporting(`${done} of ${total} users`)).then(
              () => setExporting('Downloaded every user\'s export.'),
              (err: unknown) => setExporting(err instanceof Error ? err.message : 'The export failed.'),
            ).finally(() => setExportBusy(false));
          }}>
          Export everyone
        </button>
        {exporting ? <p role="status">{exporting}</p> : null}
      </section>
    </div>
  );
}
