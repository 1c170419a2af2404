// @vitest-environment jsdom
import { act, cleanup, render } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { useTextFieldBinding } from './useTextFieldBinding.js';

afterEach(cleanup);

let setFromOutside: (value: string) => void = () => undefined;

function Field({ initial }: { initial: string }) {
  const [value, setValue] = useState(initial);
  setFromOutside = setValue;
  const binding = useTextFieldBinding<HTMLTextAreaElement>(value, setValue);
  return <textarea aria-label="why" {...binding} />;
}

describe('useTextFieldBinding', () => {
  it('keeps the caret of the focused field where it was when text arrives before it', () => {
    const { getByLabelText } = render(<Field initial="Typed after a failed lo" />);
    const field = getByLabelText('why') as HTMLTextAreaElement;
    field.focus();
    field.setSelectionRange(23, 23);
    act(() => setFromOutside('SERVER TEXT\n\nTyped after a failed lo'));
    expect(field.value).toBe('SERVER TEXT\n\nTyped after a failed lo');
    expect([field.selectionStart, field.selectionEnd]).toEqual([36, 36]);
    // In the middle, with text arriving after the caret: it stays.
    field.setSelectionRange(20, 20);
    act(() => setFromOutside('SERVER TEXT\n\nTyped after a failed lo. And more.'));
    expect([field.selectionStart, field.selectionEnd]).toEqual([20, 20]);
  });

  it('hands what is typed to onChange, and leaves an unfocused field alone', () => {
    const { getByLabelText } = render(<Field initial="abc" />);
    const field = getByLabelText('why') as HTMLTextAreaElement;
    field.setSelectionRange(1, 1);
    act(() => setFromOutside('Xabc'));
    expect(field.value).toBe('Xabc');
    expect(document.activeElement).not.toBe(field);
  });
});
