import { useWorkshopStepData } from '../../lib';
import { StepFrame, TextArea, type StepProps } from './common';

interface StarPowerData {
  starPower: string;
  reflection: string;
}

const POWERS = ['Thinking', 'Acting', 'Feeling', 'Planning'];
const initialData: StarPowerData = { starPower: '', reflection: '' };

/** AST 2-1: choose your star power and reflect on it. */
export function StarPower({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  const locked = readOnly || status === 'locked';
  return (
    <StepFrame title={title} status={status} error={error}>
      <fieldset className="choices" disabled={locked}>
        <legend>Your star power</legend>
        {POWERS.map((power) => (
          <label key={power} className="choice">
            <input type="radio" name="starPower" value={power} checked={data.starPower === power}
              onChange={() => updateData({ starPower: power })} />
            {power}
          </label>
        ))}
      </fieldset>
      <TextArea id="reflection" label="How does this strength show up in your work?" value={data.reflection}
        readOnly={locked} onChange={(reflection) => updateData({ reflection })} />
    </StepFrame>
  );
}
