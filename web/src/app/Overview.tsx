import type { CatalogWorkshop, NavigationProgress, WorkshopStatus } from './api';
import { CompletionPanel } from './Completion';
import { missingRequired } from './progress';
import { orderedSteps, stepHref } from './routes';
import { StepMark, stepState } from './StepList';

/** A workshop at a glance: sections, steps, how many are done, what completion still needs. */
export function Overview(props: {
  workshop: CatalogWorkshop;
  progress: NavigationProgress | null;
  /** The progress is the last known on this device (the server could not be asked). */
  fromDevice?: boolean;
  status: WorkshopStatus | null;
  onComplete: () => Promise<string | null>;
}) {
  const { workshop, progress, status } = props;
  const all = orderedSteps(workshop);
  const done = new Set(progress?.completedSteps ?? []);
  const doneCount = all.filter((s) => done.has(s.id)).length;
  const missing = missingRequired(workshop, progress);
  const next =
    all.find((s) => s.id === progress?.currentStepId) ?? all.find((s) => !done.has(s.id)) ?? all[0];
  return (
    <div className="overview">
      <p className="eyebrow">Overview</p>
      <h1 id="page-title" tabIndex={-1}>{workshop.name}</h1>
      <p data-testid="overview-summary">
        {doneCount} of {all.length} steps done.{' '}
        {status?.completed
          ? 'Completed.'
          : missing.length
            ? `${missing.length} required ${missing.length === 1 ? 'step' : 'steps'} still to do before you can complete it.`
            : 'Every required step is done.'}
      </p>
      {props.fromDevice ? (
        <p className="note" role="note" data-testid="progress-note">
          This is your progress as last known on this device: the server could not be reached. It is
          updated when the connection returns.
        </p>
      ) : null}
      {next ? (
        <p>
          <a className="button-link" href={stepHref(workshop.type, next.id)}>
            {progress?.currentStepId ? 'Continue' : 'Start'}: {next.title}
          </a>
        </p>
      ) : null}
      {workshop.sections.map((section) => {
        const sectionDone = section.steps.filter((s) => done.has(s.id)).length;
        return (
          <section key={section.number} className="overview__section" aria-labelledby={`section-${section.number}`}>
            <h2 id={`section-${section.number}`}>
              {section.number}. {section.title}{' '}
              <span className="muted">({sectionDone} of {section.steps.length} done)</span>
            </h2>
            <p className="muted">
              {section.locksOnCompletion ? 'Locked once you complete the workshop.' : 'Stays editable after you complete the workshop.'}
            </p>
            <ul className="overview__steps">
              {section.steps.map((step) => (
                <li key={step.id} data-step={step.id} data-state={done.has(step.id) ? 'done' : 'not-yet'}>
                  <StepMark state={done.has(step.id) ? 'done' : stepState(step.id, null, progress)} />{' '}
                  <a href={stepHref(workshop.type, step.id)}>{step.title}</a>
                  {step.required ? null : <span className="muted"> (optional)</span>}
                </li>
              ))}
            </ul>
          </section>
        );
      })}
      <CompletionPanel workshop={workshop} progress={progress} status={status} onComplete={props.onComplete} />
    </div>
  );
}
