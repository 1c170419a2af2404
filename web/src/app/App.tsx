import { useCallback, useEffect, useState, type FormEvent } from 'react';

import { clearJournal, type WorkshopType } from '../lib';
import { api, ApiError, type CatalogWorkshop, type User, type WorkshopStatus } from './api';
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
  if (!workshop) return null;
  const known = workshop.sections.some((s) => s.steps.some((st) => st.id === step));
  return known && step ? { workshopType: workshop.type, stepId: step } : null;
}

function firstStep(workshop: CatalogWorkshop): Route {
  return { workshopType: workshop.type, stepId: workshop.sections[0]?.steps[0]?.id ?? '' };
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);

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

  if (user === undefined) return <p className="loading">Loading…</p>;
  if (user === null)
    return (
      <Login
        onSignedIn={(me) => {
          remember(USER_KEY, me);
          setUser(me);
        }}
      />
    );
  return (
    <Workshops
      user={user}
      onSignedOut={() => {
        clearJournal(user.id);
        forget(USER_KEY);
        setUser(null);
      }}
    />
  );
}

function Login({ onSignedIn }: { onSignedIn: (user: User) => void }) {
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
      setError(err instanceof ApiError ? err.message : 'The server could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>Workshop</h1>
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
        {error ? <p id="login-error" className="error" role="alert">{error}</p> : null}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}

function Workshops({ user, onSignedOut }: { user: User; onSignedOut: () => void }) {
  const [catalog, setCatalog] = useState<CatalogWorkshop[] | null>(null);
  const [route, setRoute] = useState<Route | null>(null);
  const [status, setStatus] = useState<WorkshopStatus | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    const show = (workshops: CatalogWorkshop[]) => {
      setCatalog(workshops);
      const first = workshops[0];
      setRoute(parseRoute(window.location.hash, workshops) ?? (first ? firstStep(first) : null));
    };
    api.catalog().then(
      (workshops) => {
        remember(CATALOG_KEY, workshops);
        show(workshops);
      },
      (err: unknown) => {
        const cached = recall<CatalogWorkshop[]>(CATALOG_KEY);
        if (cached && !(err instanceof ApiError)) show(cached);
        else setLoadError(err instanceof Error ? err.message : 'The workshops could not be loaded.');
      },
    );
  }, []);

  useEffect(() => {
    if (!catalog) return;
    const follow = () => {
      const next = parseRoute(window.location.hash, catalog);
      if (next) setRoute(next);
    };
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [catalog]);

  const workshopType = route?.workshopType;
  const refreshStatus = useCallback(() => {
    if (!workshopType) return;
    api.status(workshopType).then(setStatus, () => setStatus(null));
  }, [workshopType]);
  useEffect(refreshStatus, [refreshStatus]);

  const go = (next: Route) => {
    window.location.hash = `#/${next.workshopType}/${next.stepId}`;
    setRoute(next);
    setMessage(null);
  };

  const signOut = async () => {
    await api.logout().catch(() => undefined);
    onSignedOut();
  };

  const complete = async () => {
    if (!workshopType) return;
    try {
      setStatus(await api.complete(workshopType));
      setMessage('Workshop completed. Your answers are now locked.');
    } catch (err) {
      const missing = err instanceof ApiError ? (err.body.missingSteps as string[] | undefined) : undefined;
      setMessage(
        missing?.length
          ? `Complete these steps first: ${missing.join(', ')}`
          : err instanceof Error
            ? err.message
            : 'The workshop could not be completed.',
      );
    }
  };

  if (loadError) return <p className="error" role="alert">{loadError}</p>;
  if (!catalog || !route) return <p className="loading">Loading…</p>;
  const workshop = catalog.find((w) => w.type === route.workshopType) ?? catalog[0]!;
  const step = workshop.sections.flatMap((s) => s.steps).find((s) => s.id === route.stepId);
  const section = workshop.sections.find((s) => s.steps.some((st) => st.id === route.stepId));
  const Page = stepPage(route.workshopType, route.stepId);
  const locked = Boolean(status?.locked && section?.locksOnCompletion);

  return (
    <div className="shell">
      <header className="topbar">
        <strong>Workshop</strong>
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
        <button type="button" onClick={signOut}>Sign out</button>
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
                      onClick={(e) => { e.preventDefault(); go({ workshopType: workshop.type, stepId: st.id }); }}>
                      {st.id} {st.title}
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
              <button type="button" onClick={complete}>Complete workshop</button>
            )}
            {message ? <p role="status">{message}</p> : null}
          </div>
        </nav>
        <main className="content">
          <Page key={`${route.workshopType}:${route.stepId}`} workshopType={route.workshopType}
            stepId={route.stepId} title={step ? `${step.id} ${step.title}` : route.stepId}
            userId={user.id} readOnly={locked} />
        </main>
      </div>
    </div>
  );
}
