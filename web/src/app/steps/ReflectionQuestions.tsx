import { useWorkshopStepData } from '../../lib';
import { StepFrame, TextArea, TextInput, type StepProps } from './common';

interface ReflectionData {
  whyReflection: string;
  howReflection: string;
  whatReflection: string;
  nextStep: string;
}

const initialData: ReflectionData = { whyReflection: '', howReflection: '', whatReflection: '', nextStep: '' };

/** IA 3-4: four reflection questions. */
export function ReflectionQuestions({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  const locked = readOnly || status === 'locked';
  return (
    <StepFrame title={title} status={status} error={error}>
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
