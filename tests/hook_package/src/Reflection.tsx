import { useWorkshopStepData, type RejectedChange, type SaveStatus } from 'workshop-data-react';

interface Answers {
  whyReflection: string;
}

const initialData: Answers = { whyReflection: '' };

export function Reflection() {
  const step = useWorkshopStepData('ia', 'ia-3-4', initialData, { debounceMs: 500 });
  const status: SaveStatus = step.status;
  const rejected: RejectedChange<Answers> | null = step.rejected;
  return (
    <form>
      <label htmlFor="whyReflection">Why is this important to you?</label>
      <textarea id="whyReflection" value={step.data.whyReflection} readOnly={step.locked}
        onChange={(event) => step.updateData({ whyReflection: event.target.value })} />
      <p role="status">{status}</p>
      {rejected ? <p role="alert">Not saved: {rejected.data.whyReflection}</p> : null}
    </form>
  );
}
