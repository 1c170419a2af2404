import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';

import { clearJournal, HttpError, saveAllNow, WorkshopDataProvider, type WorkshopType } from '../lib';
import { api, ApiError, type CatalogStep, type CatalogWorkshop, type User, type WorkshopStatus } from './api';
import { stepPage } from './steps';

interface Route {
  workshopType: WorkshopType;
  stepId: string;
}

const USER_KEY = 'workshop-data:user';
const CATALOG_KEY = 'workshop-data:catalog';

function remember(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Without storage the app still works online.
  }
}

function recall<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

function forget(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing stored, nothing to forget.
  }
}

function parseRoute(hash: string, catalog: CatalogWorkshop[]): Route | null {
  const [, type, step] = hash.replace(/^#/, '').split('/');
  const workshop = catalog.find((w) => w.type === type);
  if (!workshop || !step) return null;
  const known = workshop.sections.some((s) => s.steps.some((st) => st.id === step));
  return known ? { workshopType: workshop.type, stepId: step } : null;
}

function firstStep(workshop: CatalogWorkshop): Route {
  return { workshopType: workshop.type, stepId: workshop.sections[0]?.steps[0]?.id ?? '' };
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    api.me().then(
      (me) => {
        remember(USER_KEY, me);
        setUser(me);
      },
      (err: unknown) => {
        // Offline, the participant keeps working on this device with what was saved locally.
        const offline = !(err instanceof ApiError);
        setUser(offline ? recall<User>(USER_KEY) : null);
      },
    );
  }, []);

  const signedIn = (me: User) => {
    remember(USER_KEY, me);
    setNotice(null);
    setUser(me);
  };

  // The session ended (expired, or revoked elsewhere): sign in again. The journal stays, so
  // nothing typed is lost; it is saved once the same person is back.
  const sessionEnded = useCallback(() => {
    setNotice('Your session has ended. Sign in again to keep saving; what you typed is kept on this device.');
    setUser(null);
  }, []);

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null) return <Login notice={notice} onSignedIn={signedIn} />;
  return (
    <Workshops
      key={user.id}
      user={user}
      onSessionEnded={sessionEnded}
      onSignedOut={() => {
        // Synchronously stops the user's steps from keeping anything; the removal itself
        // (IndexedDB, waiting images) finishes in the background.
        void clearJournal(user.id);
        forget(USER_KEY);
        setNotice(null);
        setUser(null);
      }}
    />
  );
}

function Login({ notice, onSignedIn }: { notice: string | null; onSignedIn: (user: User) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.login(username, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'The server could not be reached. Check your connection and try again.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Workshop</h1>
      {notice ? <p className="note" role="status">{notice}</p> : null}
      <form onSubmit={submit} aria-describedby={error ? 'login-error' : undefined}>
        <div className="field">
          <label htmlFor="username">Username or email</label>
          <input id="username" name="username" autoComplete="username" value={username}
            onChange={(e) => setUsername(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" value={password}
            onChange={(e) => setPassword(e.target.value)} required />
        </div>
        {error ? <p id="login-error" className="error-text" role="alert">{error}</p> : null}
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}

function Workshops({
  user,
  onSignedOut,
  onSessionEnded,
}: {
  user: User;
  onSignedOut: () => void;
  onSessionEnded: () => void;
}) {
  const [catalog, setCatalog] = useState<CatalogWorkshop[] | null>(null);
  const [route, setRoute] = useState<Route | null>(null);
  const [status, setStatus] = useState<WorkshopStatus | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const failed = useCallback(
    (err: unknown, fallback: string): string => {
      if (err instanceof ApiError && err.status === 401) onSessionEnded();
      return err instanceof ApiError ? err.message : fallback;
    },
    [onSessionEnded],
  );

  useEffect(() => {
    const show = (workshops: CatalogWorkshop[]) => {
      setCatalog(workshops);
      // An unknown step opens its workshop's first step (or the first workshop's).
      const [, type] = window.location.hash.replace(/^#/, '').split('/');
      const fallback = workshops.find((w) => w.type === type) ?? workshops[0];
      setRoute(parseRoute(window.location.hash, workshops) ?? (fallback ? firstStep(fallback) : null));
    };
    api.catalog().then(
      (workshops) => {
        remember(CATALOG_KEY, workshops);
        show(workshops);
      },
      (err: unknown) => {
        const cached = recall<CatalogWorkshop[]>(CATALOG_KEY);
        if (cached && !(err instanceof ApiError)) show(cached);
        else setLoadError(failed(err, 'The workshops could not be loaded. Check your connection and reload.'));
      },
    );
  }, [failed]);

  useEffect(() => {
    if (!catalog) return;
    const follow = () => {
      const next = parseRoute(window.location.hash, catalog);
      if (next) {
        setRoute(next);
        setMessage(null);
      }
    };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [catalog]);

  const workshopType = route?.workshopType;
  const refreshStatus = useCallback(() => {
    if (!workshopType) return;
    api.status(workshopType).then(setStatus, (err: unknown) => {
      failed(err, '');
      setStatus(null);
    });
  }, [workshopType, failed]);
  useEffect(refreshStatus, [refreshStatus]);

  const onSaveError = useCallback(
    (error: Error) => {
      if (error instanceof HttpError && error.status === 401) onSessionEnded();
      if (error instanceof HttpError && error.status === 423) refreshStatus();
    },
    [onSessionEnded, refreshStatus],
  );

  const steps = useMemo(() => {
    const byId = new Map<string, CatalogStep>();
    for (const workshop of catalog ?? []) {
      if (workshop.type !== workshopType) continue;
      for (const section of workshop.sections) for (const step of section.steps) byId.set(step.id, step);
    }
    return byId;
  }, [catalog, workshopType]);

  const go = (next: Route) => {
    window.location.hash = `#/${next.workshopType}/${next.stepId}`;
    setRoute(next);
    setMessage(null);
  };

  const signOut = async () => {
    setBusy(true);
    const allSaved = await saveAllNow();
    if (
      !allSaved &&
      !window.confirm('Some changes could not be saved yet. Signing out removes them from this device. Sign out anyway?')
    ) {
      setBusy(false);
      return;
    }
    await api.logout().catch(() => undefined);
    onSignedOut();
  };

  const complete = async () => {
    if (!workshopType) return;
    setBusy(true);
    setMessage(null);
    try {
      await saveAllNow(); // the answers on screen count
      setStatus(await api.complete(workshopType));
      setMessage('Workshop completed. Your answers are now locked.');
    } catch (err) {
      const missing = err instanceof ApiError ? (err.body.missingSteps as string[] | undefined) : undefined;
      setMessage(
        missing?.length
          ? `Complete these steps first: ${missing.map((id) => (steps.get(id) ? `${id} ${steps.get(id)!.title}` : id)).join(', ')}.`
          : failed(err, 'The workshop could not be completed. Check your connection and try again.'),
      );
    } finally {
      setBusy(false);
    }
  };

  if (loadError) return <p className="error-text loading" role="alert">{loadError}</p>;
  if (!catalog || !route) return <p className="loading">Loading…</p>;
  const workshop = catalog.find((w) => w.type === route.workshopType) ?? catalog[0]!;
  const ordered = workshop.sections.flatMap((s) => s.steps);
  const index = ordered.findIndex((s) => s.id === route.stepId);
  const step = ordered[index];
  const previous = index > 0 ? ordered[index - 1] : undefined;
  const next = index >= 0 ? ordered[index + 1] : undefined;
  const section = workshop.sections.find((s) => s.steps.some((st) => st.id === route.stepId));
  const Page = stepPage(route.workshopType, route.stepId);
  const readOnly = Boolean(status?.locked && section?.locksOnCompletion);

  return (
    <WorkshopDataProvider userId={user.id} onSaveError={onSaveError}>
      <a className="skip" href="#content">Skip to the step</a>
      <div className="shell">
        <header className="topbar">
          <span className="brand">Workshop</span>
          <nav aria-label="Workshops" className="tabs">
            {catalog.map((w) => (
              <button key={w.type} type="button" aria-current={w.type === workshop.type ? 'page' : undefined}
                onClick={() => go(firstStep(w))}>
                {w.name}
              </button>
            ))}
          </nav>
          <span className="topbar__user">{user.name || user.username}</span>
          <a href={`/api/export/users/${user.id}`} download>Download my data</a>
          <button type="button" className="secondary" onClick={signOut} disabled={busy}>Sign out</button>
        </header>
        <div className="layout">
          <nav className="sections" aria-label={`${workshop.name} steps`}>
            {workshop.sections.map((s) => (
              <div key={s.number}>
                <h3>{s.number}. {s.title}</h3>
                <ul>
                  {s.steps.map((st) => (
                    <li key={st.id}>
                      <a href={`#/${workshop.type}/${st.id}`} aria-current={st.id === route.stepId ? 'page' : undefined}
                        onClick={(e) => {
                          e.preventDefault();
                          go({ workshopType: workshop.type, stepId: st.id });
                        }}>
                        <span className="step-id">{st.id}</span> {st.title}
                      </a>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
            <div className="complete">
              {status?.completed ? (
                <p className="badge" data-testid="workshop-completed">Completed</p>
              ) : (
                <button type="button" onClick={complete} disabled={busy}>Complete workshop</button>
              )}
              <p role="status" className="complete__message" data-testid="workshop-message">{message}</p>
            </div>
          </nav>
          <main className="content" id="content" tabIndex={-1}>
            <Page key={`${route.workshopType}:${route.stepId}`} workshopType={route.workshopType}
              stepId={route.stepId} title={step ? `${step.id} ${step.title}` : route.stepId} readOnly={readOnly} />
            <nav className="pager" aria-label="Previous and next step">
              {previous ? (
                <a href={`#/${workshop.type}/${previous.id}`} onClick={(e) => {
                  e.preventDefault();
                  go({ workshopType: workshop.type, stepId: previous.id });
                }}>← {previous.id} {previous.title}</a>
              ) : <span />}
              {next ? (
                <a href={`#/${workshop.type}/${next.id}`} onClick={(e) => {
                  e.preventDefault();
                  go({ workshopType: workshop.type, stepId: next.id });
                }}>{next.id} {next.title} →</a>
              ) : null}
            </nav>
          </main>
        </div>
      </div>
    </WorkshopDataProvider>
  );
}
