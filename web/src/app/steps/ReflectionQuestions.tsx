import { StepFrame, TextArea, TextInput, useStep, type StepProps } from './common';

interface IA34StepData {
  whyReflection: string;
  howReflection: string;
  whatReflection: string;
  nextStep: string;
}

const initialData: IA34StepData = { whyReflection: '', howReflection: '', whatReflection: '', nextStep: '' };

/** IA 3-4: four reflection questions. */
export function ReflectionQuestions(props: StepProps) {
  const step = useStep(props, initialData);
  const { data, updateData, locked } = step;
  return (
    <StepFrame title={props.title} step={step}>
      <TextArea id="whyReflection" label="Why is this important to you?" value={data.whyReflection}
        placeholder="Reflect on your motivation…" readOnly={locked}
        onChange={(whyReflection) => updateData({ whyReflection })} />
      <TextArea id="howReflection" label="How will you approach this?" value={data.howReflection}
        placeholder="Describe your approach…" readOnly={locked}
        onChange={(howReflection) => updateData({ howReflection })} />
      <TextArea id="whatReflection" label="What do you envision?" value={data.whatReflection}
        placeholder="Paint your vision…" readOnly={locked}
        onChange={(whatReflection) => updateData({ whatReflection })} />
      <TextInput id="nextStep" label="What's your next step?" value={data.nextStep}
        placeholder="Your immediate next action…" readOnly={locked}
        onChange={(nextStep) => updateData({ nextStep })} />
    </StepFrame>
  );
}
