import { useWorkshopStepData } from '../../lib';
import { StepFrame, TextArea, type StepProps } from './common';

const initialData = { reflection: '' };

/** Every catalogue step without a page of its own: one reflection. */
export function GenericReflection({ workshopType, stepId, title, userId, readOnly }: StepProps) {
  const { data, updateData, status, error } = useWorkshopStepData(workshopType, stepId, initialData, { userId });
  return (
    <StepFrame title={title} status={status} error={error}>
      <TextArea id="reflection" label="Your reflection" value={data.reflection} rows={8}
        readOnly={readOnly || status === 'locked'} onChange={(reflection) => updateData({ reflection })} />
    </StepFrame>
  );
}
