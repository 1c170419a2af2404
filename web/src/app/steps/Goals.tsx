import { useState } from 'react';

import { useWorkshopStepData } from '../../lib';
import { StepFrame, TextInput, type StepProps } from './common';

interface GoalsData {
  goals: string[];
  timeline: string;
}

const initialData: GoalsData = { goals: [], timeline: '' };

/** AST 3-2: a list of goals and a timeline. */
export function Goals({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  const [newGoal, setNewGoal] = useState('');
  const locked = readOnly || status === 'locked';

  const addGoal = () => {
    if (!newGoal.trim()) return;
    updateData({ goals: [...data.goals, newGoal] });
    setNewGoal('');
  };

  return (
    <StepFrame title={title} status={status} error={error}>
      <div className="field field--inline">
        <label htmlFor="newGoal">A goal</label>
        <input id="newGoal" name="newGoal" type="text" value={newGoal} readOnly={locked}
          onChange={(e) => setNewGoal(e.target.value)}
          onKeyDown={(e) => { if (e.key === 'Enter') addGoal(); }} />
        <button type="button" onClick={addGoal} disabled={locked || !newGoal.trim()}>Add goal</button>
      </div>
      <ol className="goals" data-testid="goals">
        {data.goals.map((goal, index) => (
          <li key={index}>
            {goal}{' '}
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
