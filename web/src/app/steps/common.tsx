import type { ReactNode } from 'react';

import type { SaveStatus, WorkshopType } from '../../lib';
import { SaveState } from '../SaveState';

export interface StepProps {
  workshopType: WorkshopType;
  stepId: string;
  title: string;
  userId: number;
  readOnly: boolean;
}

export function StepFrame(props: {
  title: string;
  intro?: string;
  status: SaveStatus;
  error: string | null;
  children: ReactNode;
}) {
  return (
    <section className="step" aria-labelledby="step-title">
      <header className="step__header">
        <h2 id="step-title">{props.title}</h2>
        <SaveState status={props.status} error={props.error} />
      </header>
      {props.intro ? <p className="step__intro">{props.intro}</p> : null}
      {props.status === 'loading' ? <p>Loading your saved work…</p> : props.children}
    </section>
  );
}

export function TextArea(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  readOnly: boolean;
  rows?: number;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        name={props.id}
        value={props.value}
        placeholder={props.placeholder}
        readOnly={props.readOnly}
        rows={props.rows ?? 4}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

export function TextInput(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  readOnly: boolean;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        name={props.id}
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        readOnly={props.readOnly}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}
