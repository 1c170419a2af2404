import { StepFrame, TextArea, useStep, type StepProps } from './common';

interface StarPowerData {
  starPower: string;
  reflection: string;
}

const POWERS = ['Thinking', 'Acting', 'Feeling', 'Planning'];
const initialData: StarPowerData = { starPower: '', reflection: '' };

/** AST 2-1: choose your star power and reflect on it. */
export function StarPower(props: StepProps) {
  const step = useStep(props, initialData);
  const { data, updateData, locked } = step;
  return (
    <StepFrame title={props.title} step={step}>
      <fieldset className="choices" disabled={locked}>
        <legend>Your star power</legend>
        {POWERS.map((power) => (
          <label key={power} className="choice" htmlFor={`starPower-${power}`}>
            <input id={`starPower-${power}`} type="radio" name="starPower" value={power}
              checked={data.starPower === power} onChange={() => updateData({ starPower: power })} />
            {power}
          </label>
        ))}
      </fieldset>
      <TextArea id="reflection" label="How does this strength show up in your work?" value={data.reflection}
        readOnly={locked} onChange={(reflection) => updateData({ reflection })} />
    </StepFrame>
  );
}
