import { useState } from 'react';

import { useWorkshopStepData } from '../../lib';
import { StepFrame, type StepProps } from './common';

interface Moment {
  text: string;
  tag: string;
}

interface MomentsData {
  savedMoments: Moment[];
}

const TAGS = ['Surprise', 'Memory', 'Curiosity'];
const initialData: MomentsData = { savedMoments: [] };

/** IA 3-2: collect moments, each with a tag. */
export function Moments({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  const [momentText, setMomentText] = useState('');
  const [tag, setTag] = useState('');
  const locked = readOnly || status === 'locked';

  const saveMoment = () => {
    if (!momentText.trim() || !tag) return;
    updateData({ savedMoments: [...data.savedMoments, { text: momentText, tag }] });
    setMomentText('');
    setTag('');
  };

  return (
    <StepFrame title={title} status={status} error={error} intro="Describe moments that caught your attention.">
      <div className="field">
        <label htmlFor="momentText">A moment</label>
        <textarea id="momentText" name="momentText" value={momentText} readOnly={locked} rows={3}
          placeholder="Describe a moment…" onChange={(e) => setMomentText(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="momentTag">Tag</label>
        <select id="momentTag" name="momentTag" value={tag} disabled={locked} onChange={(e) => setTag(e.target.value)}>
          <option value="">Select a tag…</option>
          {TAGS.map((t) => (
            <option key={t} value={t}>{t}</option>
          ))}
        </select>
      </div>
      <button type="button" onClick={saveMoment} disabled={locked || !momentText.trim() || !tag}>
        Save Moment
      </button>
      <h3>Your saved moments ({data.savedMoments.length})</h3>
      <ul className="moments" data-testid="saved-moments">
        {data.savedMoments.map((moment, index) => (
          <li key={index} className="moment">
            <span className="tag">{moment.tag}</span> <span className="moment__text">{moment.text}</span>
            {locked ? null : (
              <button type="button" className="link" aria-label={`Remove moment ${index + 1}`}
                onClick={() => updateData({ savedMoments: data.savedMoments.filter((_, i) => i !== index) })}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </StepFrame>
  );
}
