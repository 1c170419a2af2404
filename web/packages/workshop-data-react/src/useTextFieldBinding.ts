import { useLayoutEffect, useRef, type ChangeEvent, type RefObject } from 'react';

import { mapSelection } from './selection.js';

type TextField = HTMLInputElement | HTMLTextAreaElement;

export interface TextFieldBinding<E extends TextField> {
  ref: RefObject<E | null>;
  value: string;
  onChange: (event: ChangeEvent<E>) => void;
}

/**
 * A controlled `<input>` or `<textarea>` whose caret stays where the participant is typing
 * when its value changes from outside (a merge, another tab's or device's change): spread the
 * result on the field (`<textarea {...useTextFieldBinding(data.why, (why) => updateData({why}))} />`).
 * When the value the field shows is replaced while it has focus, the selection is mapped
 * through the change (mapSelection) and put back before the browser paints.
 */
export function useTextFieldBinding<E extends TextField = HTMLTextAreaElement>(value: string, onChange: (value: string) => void): TextFieldBinding<E> {
  const ref = useRef<E | null>(null);
  const moved = useRef<{ old: string; start: number; end: number; direction: 'forward' | 'backward' | 'none' | null } | null>(null);
  const field = ref.current;
  // Read during render, while the field still shows the text the participant was typing in:
  // React replaces it (and the browser moves the caret to the end) when it commits.
  if (field && field.value !== value && field.ownerDocument.activeElement === field && field.selectionStart !== null && field.selectionEnd !== null) {
    moved.current = { old: field.value, start: field.selectionStart, end: field.selectionEnd, direction: field.selectionDirection };
  }
  useLayoutEffect(() => {
    const pending = moved.current;
    moved.current = null;
    const element = ref.current;
    if (!pending || !element || element.value !== value || element.ownerDocument.activeElement !== element) return;
    const { start, end } = mapSelection(pending.old, value, pending.start, pending.end);
    element.setSelectionRange(start, end, pending.direction ?? undefined);
  });
  return { ref, value, onChange: (event) => onChange(event.currentTarget.value) };
}
