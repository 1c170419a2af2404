import { useEffect, useState, type ReactNode } from 'react';

import { useTextFieldBinding, useWorkshopStepData, type RejectedChange, type UseWorkshopStepData, type WorkshopType } from 'workshop-data-react';
import type { CatalogStep } from '../api';
import { HistoryPanel } from '../History';
import { isAnswered } from '../progress';
import { SaveState, type StatusOverride } from '../SaveState';

export interface StepProps {
  workshopType: WorkshopType;
  stepId: string;
  /** The step's title, as the page heading. */
  title: string;
  /** The workshop is completed and this step's section locks on completion. */
  readOnly: boolean;
  /** Where the step sits, shown above the title ("AllStarTeams · Step 3.2"). */
  eyebrow?: string;
  /** The step's catalogue entry: its completion rule. */
  rule?: CatalogStep;
  /** Called when a confirmed save satisfies the step's completion rule. */
  onAnswered?: () => void;
}

export interface Step<T extends object> extends UseWorkshopStepData<T> {
  /** Inputs must not change anything (completed workshop, or the server said 423). */
  locked: boolean;
  /** The labels of the fields also changed elsewhere in the same place when a concurrent edit
   * was merged (for texts both whole versions are kept). */
  conflictFields: string[] | null;
  dismissConflict: () => void;
  /** The page's props, for the frame around it. */
  props: StepProps;
}

/** The hook, with what every step page needs around it. `fieldLabels`: the label of each
 * field as the page shows it (field id → label), so a conflict names fields as people know them. */
export function useStep<T extends object>(props: StepProps, initialData: T, fieldLabels?: Partial<Record<keyof T & string, string>>): Step<T> {
  const [conflictFields, setConflictFields] = useState<string[] | null>(null);
  const hook = useWorkshopStepData(props.workshopType, props.stepId, initialData, {
    onConflict: (info) => setConflictFields(info.labels),
    ...(fieldLabels ? { fieldLabels: fieldLabels as Record<string, string> } : {}),
  });
  const { rule, onAnswered } = props;
  const confirmed = hook.loaded && !hook.hasPendingChanges && (hook.status === 'saved' || hook.status === 'idle');
  const answered = confirmed && hook.version !== null && rule?.completedWhen === 'answered' && isAnswered(rule, hook.data);
  useEffect(() => {
    if (answered) onAnswered?.();
  }, [answered, onAnswered]);
  return {
    ...hook,
    locked: props.readOnly || hook.locked,
    conflictFields,
    dismissConflict: () => setConflictFields(null),
    props,
  };
}

export function StepFrame<T extends object>(props: {
  title: string;
  intro?: string;
  step: Step<T>;
  /** What else the step waits for (an image upload), shown when it is worse than the step's state. */
  statusOverride?: StatusOverride | null;
  children: ReactNode;
}) {
  const { step } = props;
  return (
    <section className="step" aria-labelledby="page-title">
      {step.props.eyebrow ? <p className="eyebrow">{step.props.eyebrow}</p> : null}
      <header className="step__header">
        <h1 id="page-title" tabIndex={-1}>{props.title}</h1>
        <SaveState status={step.status} error={step.error} loaded={step.loaded} locked={step.locked} also={props.statusOverride} />
      </header>
      {step.conflictFields ? (
        <div className="note" role="note" data-testid="conflict-note">
          <p>
            This step was also changed on another device or tab. Where both changed the same words
            ({step.conflictFields.map((label) => `“${label}”`).join(', ')}), both versions are kept whole:
            the other one first, then yours after a blank line. Your text as it was is also under Previous
            versions.
          </p>
          <button type="button" className="link" onClick={step.dismissConflict}>
            Dismiss
          </button>
        </div>
      ) : null}
      {step.rejected ? <RejectedNote rejected={step.rejected} /> : null}
      {props.intro ? <p className="step__intro">{props.intro}</p> : null}
      {step.status === 'loading' ? <p>Loading your saved work…</p> : props.children}
      {step.loaded ? <HistoryPanel step={step} /> : null}
    </section>
  );
}

function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join('\n');
  return JSON.stringify(value, null, 2) ?? '';
}

/** What the participant typed, refused because the workshop is completed: nowhere else anymore. */
function rejectedText<T extends object>(rejected: RejectedChange<T>): string {
  const data = rejected.data as Record<string, unknown>;
  return rejected.fields.map((field) => shown(data[field])).filter((text) => text.trim() !== '').join('\n\n');
}

/**
 * The change the server refused (the workshop was completed meanwhile): it is no longer on the
 * page nor on the device, so it is shown here once more, with a way to copy it.
 */
export function RejectedNote<T extends object>({ rejected }: { rejected: RejectedChange<T> }) {
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const text = rejectedText(rejected);
  if (!text) return null;
  const copy = () => {
    navigator.clipboard.writeText(text).then(
      () => setCopied('copied'),
      () => setCopied('failed'),
    );
  };
  return (
    <div className="note note--rejected" role="alert" data-testid="rejected-change">
      <p>Your change was not saved because the workshop is completed:</p>
      <pre className="rejected-text" data-testid="rejected-text">{text}</pre>
      <button type="button" className="secondary" onClick={copy}>Copy</button>
      {copied ? (
        <span role="status">{copied === 'copied' ? 'Copied.' : 'Could not copy: select the text and copy it.'}</span>
      ) : null}
    </div>
  );
}

export function TextArea(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  readOnly: boolean;
  rows?: number;
  onChange: (value: string) => void;
}) {
  // A merge or another device's change landing while the participant types keeps the caret.
  const binding = useTextFieldBinding<HTMLTextAreaElement>(props.value, props.onChange);
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        name={props.id}
        placeholder={props.placeholder}
        readOnly={props.readOnly}
        rows={props.rows ?? 4}
        {...binding}
      />
    </div>
  );
}

export function TextInput(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  readOnly: boolean;
  onChange: (value: string) => void;
}) {
  const binding = useTextFieldBinding<HTMLInputElement>(props.value, props.onChange);
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type="text"
        placeholder={props.placeholder}
        readOnly={props.readOnly}
        {...binding}
      />
    </div>
  );
}
