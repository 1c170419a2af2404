import { useTextFieldBinding } from 'workshop-data-react';

import { StepFrame, TextInput, useStep, type StepProps } from './common';

interface GoalsData {
  goals: string[];
  timeline: string;
  /** The goal being written, saved as typed until "Add goal". */
  currentGoal: string;
}

const initialData: GoalsData = { goals: [], timeline: '', currentGoal: '' };
const LABELS = { goals: 'Your goals', timeline: 'Timeline', currentGoal: 'A goal' };

/** AST 3-2: a list of goals and a timeline. "Add goal" moves the draft into the list and
 * clears it in one update. */
export function Goals(props: StepProps) {
  const step = useStep(props, initialData, LABELS);
  const { data, updateData, locked } = step;
  const canAdd = !locked && data.currentGoal.trim() !== '';
  const goalField = useTextFieldBinding<HTMLInputElement>(data.currentGoal, (currentGoal) => updateData({ currentGoal }));

  const addGoal = () => {
    if (!canAdd) return;
    updateData((current) => ({ goals: [...current.goals, current.currentGoal], currentGoal: '' }));
  };

  return (
    <StepFrame title={props.title} step={step}>
      <div className="field">
        <label htmlFor="newGoal">{LABELS.currentGoal}</label>
        <div className="inline">
          <input id="newGoal" name="newGoal" type="text" readOnly={locked} {...goalField}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addGoal();
              }
            }} />
          <button type="button" onClick={addGoal} disabled={!canAdd}>Add goal</button>
        </div>
      </div>
      <h2>Your goals ({data.goals.length})</h2>
      <ol className="goals" data-testid="goals">
        {data.goals.map((goal, index) => (
          <li key={index}>
            <span className="goal__text">{goal}</span>
            {locked ? null : (
              <button type="button" className="link" aria-label={`Remove goal ${index + 1}`}
                onClick={() => updateData((current) => ({ goals: current.goals.filter((_, i) => i !== index) }))}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ol>
      <TextInput id="timeline" label={LABELS.timeline} value={data.timeline} readOnly={locked}
        placeholder="e.g. Q3 2025" onChange={(timeline) => updateData({ timeline })} />
    </StepFrame>
  );
}
