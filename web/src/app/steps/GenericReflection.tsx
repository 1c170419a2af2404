import { StepFrame, TextArea, useStep, type StepProps } from './common';

const initialData = { reflection: '' };
const LABELS = { reflection: 'Your reflection' };

/** Every catalogue step without a page of its own: one reflection. */
export function GenericReflection(props: StepProps) {
  const step = useStep(props, initialData, LABELS);
  return (
    <StepFrame title={props.title} step={step}>
      <TextArea id="reflection" label={LABELS.reflection} value={step.data.reflection} rows={8} readOnly={step.locked}
        onChange={(reflection) => step.updateData({ reflection })} />
    </StepFrame>
  );
}
