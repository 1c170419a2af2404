import { StepFrame, TextArea, useStep, type StepProps } from './common';

interface StarPowerData {
  starPower: string;
  reflection: string;
}

const POWERS = ['Thinking', 'Acting', 'Feeling', 'Planning'];
const initialData: StarPowerData = { starPower: '', reflection: '' };
const LABELS = { starPower: 'Your star power', reflection: 'How does this strength show up in your work?' };

/** AST 2-1: choose your star power and reflect on it. */
export function StarPower(props: StepProps) {
  const step = useStep(props, initialData, LABELS);
  const { data, updateData, locked } = step;
  return (
    <StepFrame title={props.title} step={step}>
      <fieldset className="choices" disabled={locked}>
        <legend>{LABELS.starPower}</legend>
        {POWERS.map((power) => (
          <label key={power} className="choice" htmlFor={`starPower-${power}`}>
            <input id={`starPower-${power}`} type="radio" name="starPower" value={power}
              checked={data.starPower === power} onChange={() => updateData({ starPower: power })} />
            {power}
          </label>
        ))}
      </fieldset>
      <TextArea id="reflection" label={LABELS.reflection} value={data.reflection}
        readOnly={locked} onChange={(reflection) => updateData({ reflection })} />
    </StepFrame>
  );
}
