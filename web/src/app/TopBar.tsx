import type { PendingSummary } from 'workshop-data-react';

import type { CatalogWorkshop, User } from './api';
import { PendingWork } from './SaveState';

/** The header: the workshops, the signed-in user, "Download my data" and "Sign out" (behind a
 * menu button on a phone). */
export function TopBar({ catalog, workshop, workshopCurrent, myDataCurrent, user, menuOpen, onToggleMenu, onSignOut, busy, pending }: {
  catalog: CatalogWorkshop[];
  workshop: CatalogWorkshop | null;
  /** The workshop's tab is marked current (not on "My data"). */
  workshopCurrent: boolean;
  myDataCurrent: boolean;
  user: User;
  menuOpen: boolean;
  onToggleMenu: () => void;
  onSignOut: () => void;
  busy: boolean;
  /** What is pending on this device, whatever page is open. */
  pending: PendingSummary;
}) {
  return (
    <header className="topbar">
      <a className="brand" href="#/">Workshop</a>
      {workshop ? <span className="topbar__workshop">{workshop.name}</span> : null}
      <PendingWork summary={pending} />
      <button type="button" className="menu-toggle secondary" aria-expanded={menuOpen} aria-controls="app-menu step-list"
        onClick={onToggleMenu}>
        {menuOpen ? 'Close menu' : 'Menu'}
      </button>
      <div className="topbar__menu" id="app-menu">
        <nav aria-label="Workshops" className="tabs">
          {catalog.map((w) => (
            <a key={w.type} href={`#/${w.type}`} aria-current={w.type === workshop?.type && workshopCurrent ? 'true' : undefined}>
              {w.name}
            </a>
          ))}
        </nav>
        <span className="topbar__user">{user.name || user.username}</span>
        <a href="#/my-data" aria-current={myDataCurrent ? 'page' : undefined}>Download my data</a>
        <button type="button" className="secondary" onClick={onSignOut} disabled={busy}>Sign out</button>
      </div>
    </header>
  );
}
