import { useCallback, useEffect, useState } from 'react';

import { closeSharedEventStream, HttpError, type WorkshopType } from 'workshop-data-react';
import { api, endSessionOnThisDevice, type CatalogWorkshop, type User } from '../api';
import { Admin } from './Admin';
import { Facilitator } from './Facilitator';

export type StaffRoute = { kind: 'facilitator'; workshopType: WorkshopType | null } | { kind: 'admin' };

/** `#/facilitator[/{type}]` (the live view) and, for administrators, `#/admin`; anything else
 * is the role's home. */
export function parseStaffRoute(hash: string, role: User['role']): StaffRoute {
  const [page, type] = decodeURIComponent(hash.replace(/^#\/?/, '')).split('/');
  if (page === 'admin' && role === 'admin') return { kind: 'admin' };
  if (page === 'facilitator') return { kind: 'facilitator', workshopType: type ? (type as WorkshopType) : null };
  return role === 'admin' ? { kind: 'admin' } : { kind: 'facilitator', workshopType: null };
}

/** The pages of facilitators and administrators (no participant's workshop). */
export function StaffShell({ user, onSignedOut, onSessionEnded }: { user: User; onSignedOut: () => void; onSessionEnded: () => void }) {
  const [hash, setHash] = useState(window.location.hash);
  const [catalog, setCatalog] = useState<CatalogWorkshop[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const failed = useCallback(
    (err: unknown): string => {
      if (err instanceof HttpError && err.status === 401) onSessionEnded();
      return err instanceof HttpError ? err.message : 'The server could not be reached. Check your connection.';
    },
    [onSessionEnded],
  );
  useEffect(() => {
    const follow = () => setHash(window.location.hash);
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => {
    api.catalog().then(setCatalog, (err: unknown) => setLoadError(failed(err)));
  }, [failed]);
  useEffect(() => () => closeSharedEventStream(), []);

  const route = parseStaffRoute(hash, user.role);
  const workshopType = route.kind === 'facilitator' ? (catalog?.find((w) => w.type === route.workshopType) ?? catalog?.[0])?.type : undefined;
  useEffect(() => {
    document.title = route.kind === 'admin' ? 'Administration — Workshop' : 'Live view — Workshop';
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [route.kind, workshopType]);

  const signOut = async () => {
    setBusy(true);
    closeSharedEventStream();
    await endSessionOnThisDevice();
    onSignedOut();
  };

  let content;
  if (loadError) content = <p className="error-text" role="alert">{loadError}</p>;
  else if (!catalog) content = <p className="loading">Loading…</p>;
  else if (route.kind === 'admin') content = <Admin catalog={catalog} onError={failed} />;
  else content = <Facilitator catalog={catalog} workshopType={workshopType!} onError={failed} />;

  return (
    <>
      <a className="skip" href="#content">Skip to the content</a>
      <div className="shell">
        <header className="topbar topbar--staff">
          <a className="brand" href="#/">Workshop</a>
          <nav aria-label="Pages" className="tabs">
            <a href="#/facilitator" aria-current={route.kind === 'facilitator' ? 'page' : undefined}>Live view</a>
            {user.role === 'admin' ? <a href="#/admin" aria-current={route.kind === 'admin' ? 'page' : undefined}>Administration</a> : null}
          </nav>
          <span className="topbar__user">{user.name || user.username} ({user.role})</span>
          <button type="button" className="secondary" onClick={() => void signOut()} disabled={busy}>Sign out</button>
        </header>
        <main className="content content--wide" id="content" tabIndex={-1}>{content}</main>
      </div>
    </>
  );
}
