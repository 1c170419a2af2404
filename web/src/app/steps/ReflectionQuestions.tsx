import { StepFrame, TextArea, TextInput, useStep, type StepProps } from './common';

interface IA34StepData {
  whyReflection: string;
  howReflection: string;
  whatReflection: string;
  nextStep: string;
}

const initialData: IA34StepData = { whyReflection: '', howReflection: '', whatReflection: '', nextStep: '' };
const LABELS = {
  whyReflection: 'Why is this important to you?',
  howReflection: 'How will you approach this?',
  whatReflection: 'What do you envision?',
  nextStep: "What's your next step?",
};

/** IA 3-4: four reflection questions. */
export function ReflectionQuestions(props: StepProps) {
  const step = useStep(props, initialData, LABELS);
  const { data, updateData, locked } = step;
  return (
    <StepFrame title={props.title} step={step}>
      <TextArea id="whyReflection" label={LABELS.whyReflection} value={data.whyReflection}
        placeholder="Reflect on your motivation…" readOnly={locked}
        onChange={(whyReflection) => updateData({ whyReflection })} />
      <TextArea id="howReflection" label={LABELS.howReflection} value={data.howReflection}
        placeholder="Describe your approach…" readOnly={locked}
        onChange={(howReflection) => updateData({ howReflection })} />
      <TextArea id="whatReflection" label={LABELS.whatReflection} value={data.whatReflection}
        placeholder="Paint your vision…" readOnly={locked}
        onChange={(whatReflection) => updateData({ whatReflection })} />
      <TextInput id="nextStep" label={LABELS.nextStep} value={data.nextStep}
        placeholder="Your immediate next action…" readOnly={locked}
        onChange={(nextStep) => updateData({ nextStep })} />
    </StepFrame>
  );
}
