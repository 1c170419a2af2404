import { useEffect, useMemo, useState } from 'react';

import type { WorkshopType } from 'workshop-data-react';
import type { CatalogWorkshop } from '../api';
import { orderedSteps, stepLabel } from '../routes';
import { recall, remember } from '../storage';
import { downloadText, toCsv } from './csv';
import { CELL_LABEL, cellState, mayNeedHelp, stepCounts, type CellState } from './grid';
import { ParticipantAnswers } from './ParticipantAnswers';
import type { GridParticipant } from './staffApi';
import { useLiveGrid, type Presence } from './useLiveGrid';

const IDLE_MINUTES_KEY = 'wd.facilitator.idleMinutes';
const CELL_MARK: Record<CellState, string> = { 'not-started': '○', 'in-progress': '◐', done: '✓', locked: '■' };

function time(iso: string | null): string {
  if (!iso) return '—';
  const moment = new Date(iso);
  const today = new Date().toDateString() === moment.toDateString();
  return today
    ? moment.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : moment.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function who(p: GridParticipant): string {
  return p.name || p.username;
}

export function unsentText(presence: Presence | undefined): string | null {
  if (!presence || presence.pending <= 0) return null;
  const changes = presence.pending === 1 ? '1 change' : `${presence.pending} changes`;
  return `${changes} not yet saved on their device, last seen ${time(presence.seenAt)}`;
}

function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The facilitator's live view of one workshop: participants × steps. */
export function Facilitator({ catalog, workshopType, onError }: {
  catalog: CatalogWorkshop[];
  workshopType: WorkshopType;
  onError: (err: unknown) => string;
}) {
  const workshop = catalog.find((w) => w.type === workshopType) ?? catalog[0]!;
  const [error, setError] = useState<string | null>(null);
  const { rows, presence, streamState, updatedAt } = useLiveGrid(workshop.type, (err) => setError(onError(err)));
  const [idleMinutes, setIdleMinutes] = useState<number>(() => recall<number>(IDLE_MINUTES_KEY) ?? 10);
  const [opened, setOpened] = useState<GridParticipant | null>(null);
  const now = useNow(15_000);
  const steps = useMemo(() => orderedSteps(workshop), [workshop]);

  useEffect(() => setOpened(null), [workshopType]);
  useEffect(() => {
    if (opened && rows) setOpened(rows.find((r) => r.userId === opened.userId) ?? null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows]);

  const needHelp = (rows ?? []).filter((p) => mayNeedHelp(p, idleMinutes, now));

  const downloadCsv = () => {
    if (!rows) return;
    const header = ['Participant', 'Username', 'Last activity', 'Unsent changes', ...steps.map((s) => `${stepLabel(workshop, s.id)} ${s.title}`)];
    const lines = rows.map((p) => [
      p.name,
      p.username,
      p.lastActivityAt ?? '',
      presence[p.userId]?.pending ?? '',
      ...steps.map((s) => CELL_LABEL[cellState(workshop, p, s)]),
    ]);
    const day = new Date().toISOString().slice(0, 10);
    downloadText(toCsv([header, ...lines]), `${workshop.type}-progress-${day}.csv`, 'text/csv;charset=utf-8');
  };

  return (
    <div className="facilitator">
      <h1 id="page-title" tabIndex={-1}>Live view: {workshop.name}</h1>
      <nav aria-label="Workshops" className="tabs facilitator__tabs">
        {catalog.map((w) => (
          <a key={w.type} href={`#/facilitator/${w.type}`} aria-current={w.type === workshop.type ? 'page' : undefined}>{w.name}</a>
        ))}
      </nav>
      <p className="muted live-status" role="status">
        {streamState === 'open' ? 'Live: changes appear as they happen.' : streamState === 'offline' ? 'Offline: showing what was last loaded.' : 'Checking for changes every 10 seconds.'}
        {updatedAt ? ` Updated ${new Date(updatedAt).toLocaleTimeString()}.` : ''}
      </p>
      {error ? <p className="error-text" role="alert">{error}</p> : null}

      <section aria-labelledby="help-title" className="help">
        <h2 id="help-title">May need help</h2>
        <label className="inline help__control">
          No activity for
          <input type="number" min={1} max={600} value={idleMinutes} aria-label="Minutes without activity"
            onChange={(e) => {
              const minutes = Math.max(1, Math.min(600, Number(e.target.value) || 1));
              setIdleMinutes(minutes);
              remember(IDLE_MINUTES_KEY, minutes);
            }} />
          minutes
        </label>
        {rows === null ? null : needHelp.length === 0 ? (
          <p className="muted">Nobody right now.</p>
        ) : (
          <ul data-testid="need-help">
            {needHelp.map((p) => (
              <li key={p.userId}>
                <button type="button" className="link" onClick={() => setOpened(p)}>{who(p)}</button>
                {' '}— last activity {time(p.lastActivityAt)}
                {p.currentStepId ? `, at ${stepLabel(workshop, p.currentStepId)}` : ''}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="grid-title">
        <div className="grid-heading">
          <h2 id="grid-title">Participants</h2>
          <button type="button" className="secondary" onClick={downloadCsv} disabled={!rows}>Download CSV</button>
        </div>
        <ul className="legend" aria-label="Legend">
          {(Object.keys(CELL_LABEL) as CellState[]).map((state) => (
            <li key={state}><span className={`cell cell--${state}`} aria-hidden="true">{CELL_MARK[state]}</span> {CELL_LABEL[state]}</li>
          ))}
        </ul>
        {rows === null ? (
          <p className="loading">Loading…</p>
        ) : rows.length === 0 ? (
          <p>No participants are assigned to you yet.</p>
        ) : (
          <div className="grid-scroll" role="region" aria-labelledby="grid-title" tabIndex={0}>
            <table className="grid" data-testid="progress-grid">
              <thead>
                <tr>
                  <th scope="col">Participant</th>
                  <th scope="col">Last activity</th>
                  {steps.map((s) => (
                    <th scope="col" key={s.id} title={s.title}>{stepLabel(workshop, s.id).replace('Step ', '')}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => {
                  const unsent = unsentText(presence[p.userId]);
                  return (
                    <tr key={p.userId} data-user={p.username}>
                      <th scope="row">
                        <button type="button" className="link" onClick={() => setOpened(p)}>{who(p)}</button>
                        {unsent ? <span className="unsent" data-testid="unsent">{unsent}</span> : null}
                      </th>
                      <td className="grid__time">{time(p.lastActivityAt)}</td>
                      {steps.map((s) => {
                        const state = cellState(workshop, p, s);
                        return (
                          <td key={s.id} data-step={s.id} data-state={state} title={`${who(p)}, ${s.title}: ${CELL_LABEL[state]}`}>
                            <span className={`cell cell--${state}`} aria-hidden="true">{CELL_MARK[state]}</span>
                            <span className="visually-hidden">{CELL_LABEL[state]}</span>
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">Done / in progress</th>
                  <td />
                  {steps.map((s) => {
                    const counts = stepCounts(workshop, rows, s);
                    return (
                      <td key={s.id} data-step={s.id} className="grid__count">
                        {counts.done + counts.locked}/{counts['in-progress']}
                      </td>
                    );
                  })}
                </tr>
              </tfoot>
            </table>
          </div>
        )}
      </section>
      {opened ? <ParticipantAnswers workshop={workshop} participant={opened} onClose={() => setOpened(null)} onError={onError} /> : null}
    </div>
  );
}
