/**
 * Keeping the caret where the participant is typing when a field's text changes from outside
 * (a merge, another tab's or device's change): the selection is mapped through the change.
 * Framework-free; `useTextFieldBinding` is the React binding.
 */
import { diffChars } from 'diff';

export interface TextSelection {
  start: number;
  end: number;
}

/** Where offset `offset` of `oldText` is in `newText`, given the change's stretches. Text
 * inserted before the offset moves it on; text inserted at it or after it leaves it (the
 * caret stays right after what was typed last); an offset inside a removed stretch goes to
 * where that stretch was. */
function mapOffset(changes: { value: string; added?: boolean; removed?: boolean }[], offset: number): number {
  let oldPos = 0;
  let newPos = 0;
  for (const change of changes) {
    const length = change.value.length;
    if (change.added) {
      if (oldPos >= offset) return newPos;
      newPos += length;
    } else if (change.removed) {
      if (offset < oldPos + length) return newPos;
      oldPos += length;
    } else {
      if (offset <= oldPos + length) return newPos + (offset - oldPos);
      oldPos += length;
      newPos += length;
    }
  }
  return newPos;
}

/**
 * The selection [selectionStart, selectionEnd) of `oldText`, mapped into `newText` (a diff of
 * the two, by character, UTF-16 offsets as `selectionStart` has them): text inserted before
 * an end shifts it, text inserted after it (or at it) leaves it, so what the participant types
 * next goes where they were typing. Only the stretch between the common start and end is
 * diffed, so a small change of a long text is quick.
 */
export function mapSelection(oldText: string, newText: string, selectionStart: number, selectionEnd: number = selectionStart): TextSelection {
  const clamp = (n: number) => Math.max(0, Math.min(oldText.length, Number.isFinite(n) ? Math.floor(n) : 0));
  const start = clamp(selectionStart);
  const end = Math.max(start, clamp(selectionEnd));
  if (oldText === newText) return { start, end };
  let head = 0;
  const shortest = Math.min(oldText.length, newText.length);
  while (head < shortest && oldText.charCodeAt(head) === newText.charCodeAt(head)) head += 1;
  let tail = 0;
  while (tail < shortest - head && oldText.charCodeAt(oldText.length - 1 - tail) === newText.charCodeAt(newText.length - 1 - tail)) tail += 1;
  const oldMiddleEnd = oldText.length - tail;
  const changes = diffChars(oldText.slice(head, oldMiddleEnd), newText.slice(head, newText.length - tail));
  const map = (offset: number) => {
    if (offset <= head) return offset;
    if (offset > oldMiddleEnd) return newText.length - (oldText.length - offset);
    return head + mapOffset(changes, offset - head);
  };
  const mappedStart = map(start);
  return { start: mappedStart, end: Math.max(mappedStart, map(end)) };
}

/** The parts of an `<input>` or `<textarea>` setTextFieldValue uses. */
export interface TextFieldLike {
  value: string;
  selectionStart: number | null;
  selectionEnd: number | null;
  selectionDirection: 'forward' | 'backward' | 'none' | null;
  setSelectionRange(start: number, end: number, direction?: 'forward' | 'backward' | 'none'): void;
  ownerDocument: { activeElement: unknown };
}

/** Put `text` in a text field without moving the caret of someone typing in it (for code
 * without React; `useTextFieldBinding` does this for React's controlled fields). */
export function setTextFieldValue(field: TextFieldLike, text: string): void {
  const old = field.value;
  if (old === text) return;
  const focused = field.ownerDocument.activeElement === field;
  const { selectionStart, selectionEnd, selectionDirection } = field;
  field.value = text;
  if (!focused || selectionStart === null || selectionEnd === null) return;
  const mapped = mapSelection(old, text, selectionStart, selectionEnd);
  field.setSelectionRange(mapped.start, mapped.end, selectionDirection ?? undefined);
}
