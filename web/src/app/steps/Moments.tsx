import { useState } from 'react';

import { StepFrame, useStep, type StepProps } from './common';

interface Moment {
  text: string;
  tag: string;
}

interface IA32StepData {
  savedMoments: Moment[];
}

const TAGS = ['Surprise', 'Memory', 'Curiosity'];
const initialData: IA32StepData = { savedMoments: [] };

/** IA 3-2: collect moments, each with a tag. As in the spec, the moment being written is the
 * page's own state until "Save Moment" adds it to the saved list. */
export function Moments(props: StepProps) {
  const step = useStep(props, initialData);
  const { data, updateData, locked } = step;
  const [momentText, setMomentText] = useState('');
  const [selectedTag, setSelectedTag] = useState('');

  const saveMoment = () => {
    if (!momentText.trim() || !selectedTag) return;
    // Stored as typed: user text is never rewritten.
    updateData({ savedMoments: [...data.savedMoments, { text: momentText, tag: selectedTag }] });
    setMomentText('');
    setSelectedTag('');
  };

  return (
    <StepFrame title={props.title} step={step} intro="Capture your moments: describe moments that caught your attention.">
      <div className="field">
        <label htmlFor="momentText">A moment</label>
        <textarea id="momentText" name="momentText" value={momentText} readOnly={locked} rows={3}
          placeholder="Describe a moment…" onChange={(e) => setMomentText(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="momentTag">Tag</label>
        <select id="momentTag" name="momentTag" value={selectedTag} disabled={locked}
          onChange={(e) => setSelectedTag(e.target.value)}>
          <option value="">Select a tag…</option>
          {TAGS.map((tag) => (
            <option key={tag} value={tag}>{tag}</option>
          ))}
        </select>
      </div>
      <button type="button" onClick={saveMoment} disabled={locked || !momentText.trim() || !selectedTag}>
        Save Moment
      </button>
      <h3>Your Saved Moments ({data.savedMoments.length})</h3>
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
