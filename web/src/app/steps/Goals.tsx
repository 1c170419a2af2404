import { useState } from 'react';

import { StepFrame, TextInput, useStep, type StepProps } from './common';

interface GoalsData {
  goals: string[];
  timeline: string;
}

const initialData: GoalsData = { goals: [], timeline: '' };

/** AST 3-2: a list of goals and a timeline. */
export function Goals(props: StepProps) {
  const step = useStep(props, initialData);
  const { data, updateData, locked } = step;
  const [newGoal, setNewGoal] = useState('');

  const addGoal = () => {
    if (!newGoal.trim()) return;
    updateData({ goals: [...data.goals, newGoal] });
    setNewGoal('');
  };

  return (
    <StepFrame title={props.title} step={step}>
      <div className="field">
        <label htmlFor="newGoal">A goal</label>
        <div className="inline">
          <input id="newGoal" name="newGoal" type="text" value={newGoal} readOnly={locked}
            onChange={(e) => setNewGoal(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addGoal();
              }
            }} />
          <button type="button" onClick={addGoal} disabled={locked || !newGoal.trim()}>Add goal</button>
        </div>
      </div>
      <h3>Your goals ({data.goals.length})</h3>
      <ol className="goals" data-testid="goals">
        {data.goals.map((goal, index) => (
          <li key={index}>
            <span className="goal__text">{goal}</span>
            {locked ? null : (
              <button type="button" className="link" aria-label={`Remove goal ${index + 1}`}
                onClick={() => updateData({ goals: data.goals.filter((_, i) => i !== index) })}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ol>
      <TextInput id="timeline" label="Timeline" value={data.timeline} readOnly={locked}
        placeholder="e.g. Q3 2025" onChange={(timeline) => updateData({ timeline })} />
    </StepFrame>
  );
}
