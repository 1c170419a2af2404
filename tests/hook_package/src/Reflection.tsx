import { useWorkshopStepData, type SaveStatus } from 'workshop-data-react';

interface Answers {
  whyReflection: string;
}

const initialData: Answers = { whyReflection: '' };

export function Reflection() {
  const { data, updateData, status, error }: { data: Answers; updateData: (patch: Partial<Answers>) => void; status: SaveStatus; error: string | null } =
    useWorkshopStepData('ia', 'ia-3-4', initialData, { userId: 42 });
  return (
    <form>
      <label htmlFor="whyReflection">Why is this important to you?</label>
      <textarea id="whyReflection" value={data.whyReflection} readOnly={status === 'locked'}
        onChange={(event) => updateData({ whyReflection: event.target.value })} />
      <p role="status">{status}</p>
      {error ? <p role="alert">{error}</p> : null}
    </form>
  );
}
