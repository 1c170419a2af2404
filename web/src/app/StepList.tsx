import type { CatalogWorkshop, NavigationProgress } from './api';
import { orderedSteps, stepHref } from './routes';

export type StepState = 'done' | 'current' | 'not-yet';

const STATE_TEXT: Record<StepState, string> = { done: 'done', current: 'current step', 'not-yet': 'not yet done' };
const MARK: Record<StepState, string> = { done: '✓', current: '●', 'not-yet': '○' };

export function stepState(stepId: string, currentStepId: string | null, progress: NavigationProgress | null): StepState {
  if (stepId === currentStepId) return 'current';
  return progress?.completedSteps.includes(stepId) ? 'done' : 'not-yet';
}

export function StepMark({ state }: { state: StepState }) {
  return (
    <>
      <span className={`mark mark--${state}`} aria-hidden="true">{MARK[state]}</span>
      <span className="visually-hidden">({STATE_TEXT[state]})</span>
    </>
  );
}

/** The workshop's sections and steps, each marked done, current or not yet. */
export function StepList(props: {
  workshop: CatalogWorkshop;
  progress: NavigationProgress | null;
  currentStepId: string | null;
  overviewCurrent: boolean;
}) {
  const { workshop, progress, currentStepId } = props;
  const all = orderedSteps(workshop);
  const done = all.filter((s) => progress?.completedSteps.includes(s.id)).length;
  return (
    <nav className="sections" id="step-list" aria-label={`${workshop.name} steps`}>
      <p className="sections__overview">
        <a href={`#/${workshop.type}`} aria-current={props.overviewCurrent ? 'page' : undefined}>
          Overview and completion
        </a>
        <span className="sections__count" data-testid="steps-done">{done} of {all.length} steps done</span>
      </p>
      {workshop.sections.map((section) => (
        <div key={section.number}>
          <h2>{section.number}. {section.title}</h2>
          <ul>
            {section.steps.map((step) => {
              const state = stepState(step.id, currentStepId, progress);
              const done = progress?.completedSteps.includes(step.id) ?? false;
              return (
                <li key={step.id} data-state={done ? 'done' : state} data-step={step.id}>
                  <a href={stepHref(workshop.type, step.id)} aria-current={state === 'current' ? 'page' : undefined}>
                    <StepMark state={done && state === 'current' ? 'done' : state} /> {step.title}
                  </a>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}
