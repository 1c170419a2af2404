import type { CatalogWorkshop, WorkshopStatus } from './api';
import { findStep, orderedSteps, stepHref, stepLabel } from './routes';
import { stepPage } from './steps';

/** One step's page, read-only once its section is locked, with links to the steps around it. */
export function StepView({ workshop, stepId, status, onAnswered }: {
  workshop: CatalogWorkshop;
  stepId: string;
  status: WorkshopStatus | null;
  onAnswered: () => void;
}) {
  const found = findStep(workshop, stepId)!;
  const ordered = orderedSteps(workshop);
  const index = ordered.indexOf(found.step);
  const previous = ordered[index - 1];
  const next = ordered[index + 1];
  const Page = stepPage(workshop.type, stepId);
  return (
    <>
      <Page key={`${workshop.type}:${stepId}`} workshopType={workshop.type} stepId={stepId}
        title={found.step.title} eyebrow={`${workshop.name} · ${stepLabel(workshop, stepId)} · ${found.section.title}`}
        readOnly={Boolean(status?.locked && found.section.locksOnCompletion)} rule={found.step} onAnswered={onAnswered} />
      <nav className="pager" aria-label="Previous and next step">
        {previous ? <a href={stepHref(workshop.type, previous.id)} rel="prev">← {previous.title}</a> : <span />}
        {next ? <a href={stepHref(workshop.type, next.id)} rel="next">{next.title} →</a> : null}
      </nav>
    </>
  );
}
