import { useCallback, useEffect, useMemo, useState } from 'react';

import {
  defaultJournal,
  defaultSyncCore,
  describePending,
  HttpError,
  pendingSummary,
  saveAllNow,
  usePendingWork,
  WorkshopDataProvider,
} from 'workshop-data-react';
import { api, endSessionOnThisDevice, type CatalogWorkshop, type User, type WorkshopStatus } from './api';
import { useLiveSteps } from './liveSteps';
import { MyData } from './MyData';
import { NotFound } from './NotFound';
import { PendingWorkContext } from './pendingWork';
import { Overview } from './Overview';
import { useNavigationProgress } from './progress';
import { findStep, parseRoute, type Route } from './routes';
import { StepList } from './StepList';
import { StepView } from './StepView';
import { CATALOG_KEY, recall, remember } from './storage';
import { TopBar } from './TopBar';

function pageTitle(route: Route, workshop: CatalogWorkshop | null): string {
  if (route.kind === 'my-data') return 'My data — Workshop';
  if (route.kind === 'missing' || !workshop) return 'Step not found — Workshop';
  if (route.kind === 'overview') return `${workshop.name}: overview — Workshop`;
  const found = findStep(workshop, route.stepId);
  return `${found?.step.title ?? route.stepId} — ${workshop.name}`;
}

function useCatalog(failed: (err: unknown, fallback: string) => string) {
  const [catalog, setCatalog] = useState<CatalogWorkshop[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  useEffect(() => {
    api.catalog().then(
      (workshops) => {
        remember(CATALOG_KEY, workshops);
        setCatalog(workshops);
      },
      (err: unknown) => {
        const cached = recall<CatalogWorkshop[]>(CATALOG_KEY);
        if (cached && !(err instanceof HttpError)) setCatalog(cached);
        else setLoadError(failed(err, 'The workshops could not be loaded. Check your connection and reload.'));
      },
    );
  }, [failed]);
  return { catalog, loadError };
}

function useHashRoute(catalog: CatalogWorkshop[] | null): Route | null {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const follow = () => setHash(window.location.hash);
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  return useMemo(() => (catalog ? parseRoute(hash, catalog) : null), [hash, catalog]);
}

export function Shell({ user, onSignedOut, onSessionEnded }: { user: User; onSignedOut: () => void; onSessionEnded: () => void }) {
  const failed = useCallback(
    (err: unknown, fallback: string): string => {
      if (err instanceof HttpError && err.status === 401) onSessionEnded();
      return err instanceof HttpError ? err.message : fallback;
    },
    [onSessionEnded],
  );
  const { catalog, loadError } = useCatalog(failed);
  const route = useHashRoute(catalog);
  const [lastType, setLastType] = useState<string | null>(null);
  const [status, setStatus] = useState<WorkshopStatus | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [busy, setBusy] = useState(false);

  const routeType = route && 'workshopType' in route ? route.workshopType : null;
  useEffect(() => {
    if (routeType) setLastType(routeType);
  }, [routeType]);
  const workshop = catalog?.find((w) => w.type === (routeType ?? (route?.kind === 'missing' ? null : lastType))) ?? null;
  const workshopType = workshop?.type ?? null;

  const refreshStatus = useCallback(() => {
    if (!workshopType) return;
    api.status(workshopType).then(setStatus, (err: unknown) => {
      failed(err, '');
      setStatus(null);
    });
  }, [workshopType, failed]);
  useEffect(() => {
    setStatus(null);
    refreshStatus();
  }, [refreshStatus]);

  const reportFailed = useCallback((err: unknown) => void failed(err, ''), [failed]);
  const { progress, fromDevice, visit, answered, refresh } = useNavigationProgress(workshop, user.id, reportFailed);
  const pending = usePendingWork({ userId: user.id });
  useLiveSteps(user.id, pending.total);
  const onOverview = route?.kind === 'overview';
  useEffect(() => {
    if (onOverview) refresh();
  }, [onOverview, refresh, workshopType]);
  const stepId = route?.kind === 'step' ? route.stepId : null;
  useEffect(() => {
    if (stepId && workshopType) visit(stepId);
  }, [stepId, workshopType, visit]);
  const onAnswered = useCallback(() => {
    if (stepId) answered(stepId);
  }, [stepId, answered]);

  // Each page's title in the tab, and focus on its heading (so a screen reader announces the
  // new page and the keyboard starts there).
  const routeKey = route ? `${route.kind}:${'workshopType' in route ? route.workshopType : ''}:${stepId ?? ''}` : '';
  useEffect(() => {
    if (!route) return;
    document.title = pageTitle(route, workshop);
    setMenuOpen(false);
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [routeKey, workshop]);

  const onSaveError = useCallback(
    (error: Error) => {
      if (error instanceof HttpError && error.status === 401) onSessionEnded();
      if (error instanceof HttpError && error.status === 423) refreshStatus();
    },
    [onSessionEnded, refreshStatus],
  );

  const signOut = async () => {
    setBusy(true);
    await saveAllNow();
    // Everything of this user still pending on this device: text, images, progress.
    const left = describePending(await pendingSummary(defaultSyncCore().getState(), user.id, defaultJournal()));
    if (
      left.length > 0 &&
      !window.confirm(
        `Not saved yet — only on this device: ${left.join('; ')}.\n\n` +
          'Signing out removes them from this device and they will be lost. Cancel to stay signed in: ' +
          'they are sent when the connection returns. Sign out anyway?',
      )
    ) {
      setBusy(false);
      return;
    }
    await endSessionOnThisDevice();
    onSignedOut();
  };

  const complete = async (): Promise<string | null> => {
    if (!workshop) return null;
    try {
      await saveAllNow(); // the answers on screen count
      setStatus(await api.complete(workshop.type));
      return null;
    } catch (err) {
      const missing = err instanceof HttpError ? (err.body?.missingSteps as string[] | undefined) : undefined;
      if (missing?.length) {
        const names = missing.map((id) => findStep(workshop, id)?.step.title ?? id);
        return `The server says these steps are not done yet: ${names.join(', ')}.`;
      }
      return failed(err, 'The workshop could not be completed. Check your connection and try again.');
    }
  };

  if (loadError) return <p className="error-text loading" role="alert">{loadError}</p>;
  if (!catalog || !route) return <p className="loading">Loading…</p>;

  let content;
  if (route.kind === 'my-data') {
    content = <MyData user={user} catalog={catalog} />;
  } else if (route.kind === 'overview' && workshop) {
    content = <Overview workshop={workshop} progress={progress} fromDevice={fromDevice} status={status} onComplete={complete} />;
  } else if (route.kind === 'step' && workshop) {
    content = <StepView workshop={workshop} stepId={route.stepId} status={status} onAnswered={onAnswered} />;
  } else {
    content = <NotFound path={route.kind === 'missing' ? route.path : ''} workshop={workshop} catalog={catalog} />;
  }

  return (
    <WorkshopDataProvider userId={user.id} onSaveError={onSaveError}>
      <PendingWorkContext.Provider value={pending}>
      <a className="skip" href="#content">Skip to the content</a>
      <div className={menuOpen ? 'shell shell--menu-open' : 'shell'}>
        <TopBar catalog={catalog} workshop={workshop} workshopCurrent={route.kind !== 'my-data'} myDataCurrent={route.kind === 'my-data'}
          user={user} menuOpen={menuOpen} onToggleMenu={() => setMenuOpen((open) => !open)} onSignOut={signOut} busy={busy}
          pending={pending} />
        <div className={workshop && route.kind !== 'my-data' ? 'layout' : 'layout layout--single'}>
          {workshop && route.kind !== 'my-data' ? (
            <StepList workshop={workshop} progress={progress} currentStepId={stepId} overviewCurrent={route.kind === 'overview'} />
          ) : null}
          <main className="content" id="content" tabIndex={-1}>{content}</main>
        </div>
      </div>
      </PendingWorkContext.Provider>
    </WorkshopDataProvider>
  );
}
