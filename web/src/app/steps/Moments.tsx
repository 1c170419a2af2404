import { newItemId, useTextFieldBinding } from 'workshop-data-react';

import { StepFrame, useStep, type StepProps } from './common';

interface Moment {
  /** Given when the moment is saved (older moments may have none): two devices that each save
   * a moment keep both when their edits are merged. */
  id?: string;
  text: string;
  tag: string;
}

/** The spec's interface for IA 3-2: the moment being written is data too. */
interface IA32StepData {
  savedMoments: Moment[];
  currentMomentText: string;
  currentSelectedTag: string;
}

const TAGS = ['Surprise', 'Memory', 'Curiosity'];
const initialData: IA32StepData = { savedMoments: [], currentMomentText: '', currentSelectedTag: '' };
const LABELS = { savedMoments: 'Your Saved Moments', currentMomentText: 'A moment', currentSelectedTag: 'Tag' };

/** IA 3-2: collect moments, each with a tag. The moment being written (text and tag) is saved
 * as typed, so a reload keeps it; "Save Moment" moves it into the list and clears it in one
 * update, so no save can hold the moment twice or lose it. */
export function Moments(props: StepProps) {
  const step = useStep(props, initialData, LABELS);
  const { data, updateData, locked } = step;
  const canSave = !locked && data.currentMomentText.trim() !== '' && data.currentSelectedTag !== '';
  const momentText = useTextFieldBinding<HTMLTextAreaElement>(data.currentMomentText, (currentMomentText) => updateData({ currentMomentText }));

  const saveMoment = () => {
    if (!canSave) return;
    // Stored as typed: user text is never rewritten.
    updateData((current) => ({
      savedMoments: [...current.savedMoments, { id: newItemId(), text: current.currentMomentText, tag: current.currentSelectedTag }],
      currentMomentText: '',
      currentSelectedTag: '',
    }));
  };

  return (
    <StepFrame title={props.title} step={step} intro="Capture your moments: describe moments that caught your attention.">
      <div className="field">
        <label htmlFor="momentText">{LABELS.currentMomentText}</label>
        <textarea id="momentText" name="momentText" readOnly={locked} rows={3}
          placeholder="Describe a moment…" {...momentText} />
      </div>
      <div className="field">
        <label htmlFor="momentTag">{LABELS.currentSelectedTag}</label>
        <select id="momentTag" name="momentTag" value={data.currentSelectedTag} disabled={locked}
          onChange={(e) => updateData({ currentSelectedTag: e.target.value })}>
          <option value="">Select a tag…</option>
          {TAGS.map((tag) => (
            <option key={tag} value={tag}>{tag}</option>
          ))}
        </select>
      </div>
      <button type="button" onClick={saveMoment} disabled={!canSave}>
        Save Moment
      </button>
      <h2>Your Saved Moments ({data.savedMoments.length})</h2>
      <ul className="moments" data-testid="saved-moments">
        {data.savedMoments.map((moment, index) => (
          <li key={moment.id ?? index} className="moment">
            <span className="tag">{moment.tag}</span> <span className="moment__text">{moment.text}</span>
            {locked ? null : (
              <button type="button" className="link" aria-label={`Remove moment ${index + 1}`}
                onClick={() => updateData((current) => ({ savedMoments: current.savedMoments.filter((_, i) => i !== index) }))}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
    </StepFrame>
  );
}
