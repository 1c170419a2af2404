// @vitest-environment node
// Mapping a selection through a change of the text: examples and properties (fast-check,
// seeded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { mapSelection, setTextFieldValue, type TextFieldLike } from './selection.js';

const SEED = 20261208;
const BASE = ['a', 'b', ' ', '\n', '😀'];
const OTHER = ['ж', 'з', '_', '🌱'];
const baseText = fc.array(fc.constantFrom(...BASE), { maxLength: 30 }).map((c) => c.join(''));
const otherText = fc.array(fc.constantFrom(...OTHER), { minLength: 1, maxLength: 10 }).map((c) => c.join(''));

/** A UTF-16 offset of `text` that is not inside a surrogate pair. */
function boundary(text: string, n: number): number {
  const points = [0];
  let offset = 0;
  for (const char of text) points.push((offset += char.length));
  return points[n % points.length]!;
}

const stripOther = (text: string) => [...text].filter((c) => !OTHER.includes(c)).join('');

describe('mapSelection', () => {
  it('shifts the caret by text inserted before it, and leaves it for text after it', () => {
    expect(mapSelection('hello world', 'Well, hello world', 5, 5)).toEqual({ start: 11, end: 11 });
    expect(mapSelection('hello world', 'hello world, you', 5, 5)).toEqual({ start: 5, end: 5 });
    expect(mapSelection('hello world', 'hello big world', 11, 11)).toEqual({ start: 15, end: 15 });
    expect(mapSelection('hello world', 'hello big world', 2, 8)).toEqual({ start: 2, end: 12 });
  });

  it('keeps the caret after what was typed last when the other version comes first', () => {
    const mine = 'Typed after a failed lo';
    const merged = `SERVER TEXT\n\n${mine}`;
    expect(mapSelection(mine, merged, mine.length)).toEqual({ start: merged.length, end: merged.length });
    expect(mapSelection(mine, merged, 5)).toEqual({ start: 18, end: 18 });
  });

  it('leaves the caret before text inserted exactly where it is', () => {
    expect(mapSelection('ab', 'aXb', 1)).toEqual({ start: 1, end: 1 });
  });

  it('moves a caret inside removed text to where that text was', () => {
    expect(mapSelection('one two four', 'one four', 6)).toEqual({ start: 4, end: 4 });
    expect(mapSelection('one two four', 'one four', 12)).toEqual({ start: 8, end: 8 });
  });

  it('clamps a selection outside the old text', () => {
    expect(mapSelection('abc', 'abc', 10, 20)).toEqual({ start: 3, end: 3 });
    expect(mapSelection('abc', 'Xabc', -1, 2)).toEqual({ start: 0, end: 3 });
  });

  it('keeps the caret between the same characters when other text is inserted anywhere (property)', () => {
    fc.assert(
      fc.property(baseText, fc.nat(), otherText, fc.nat(), (text, caretAt, inserted, insertAt) => {
        const caret = boundary(text, caretAt);
        const at = boundary(text, insertAt);
        const changed = text.slice(0, at) + inserted + text.slice(at);
        const { start, end } = mapSelection(text, changed, caret, caret);
        const left = changed.slice(0, start);
        const right = changed.slice(start);
        // The caret is between the same characters of the participant's text, and the other
        // text is whole on one side of it.
        return (
          start === end &&
          stripOther(left) + stripOther(right) === stripOther(text) &&
          stripOther(left) === text.slice(0, caret) &&
          (left.includes(inserted) || right.includes(inserted))
        );
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('keeps what the participant types next contiguous with what they typed before (property)', () => {
    fc.assert(
      fc.property(baseText, otherText, fc.nat(), fc.boolean(), (typed, other, insertAt, before) => {
        // The participant typed `typed` into the field and goes on typing "NEXT"; meanwhile
        // another version arrives, before or after their text, or inside the text before the caret.
        const at = before ? boundary(typed, insertAt) : typed.length;
        const merged = before ? typed.slice(0, at) + other + typed.slice(at) : `${typed}\n\n${other}`;
        const caret = mapSelection(typed, merged, typed.length).start;
        const result = merged.slice(0, caret) + 'NEXT' + merged.slice(caret);
        const next = result.indexOf('NEXT');
        const last = [...typed].at(-1) ?? '';
        // All the participant typed is before "NEXT", which follows its last character.
        return stripOther(result.slice(0, next)) === typed && result.slice(0, next).endsWith(last) && result.includes(other);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('is quick on a long text with a small change', () => {
    const long = 'word '.repeat(400_000);
    const started = performance.now();
    const { start } = mapSelection(long, `New start. ${long}`, long.length);
    expect(start).toBe(long.length + 11);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('setTextFieldValue', () => {
  function field(value: string, start: number, focused: boolean): TextFieldLike & { range: number[] } {
    const doc = { activeElement: null as unknown };
    const f = {
      value,
      selectionStart: start,
      selectionEnd: start,
      selectionDirection: 'none' as const,
      range: [] as number[],
      setSelectionRange(s: number, e: number) {
        this.range = [s, e];
      },
      ownerDocument: doc,
    };
    if (focused) doc.activeElement = f;
    return f;
  }

  it('maps the caret of a focused field, and leaves an unfocused one alone', () => {
    const focused = field('hello', 5, true);
    setTextFieldValue(focused, 'Oh, hello');
    expect(focused.value).toBe('Oh, hello');
    expect(focused.range).toEqual([9, 9]);
    const other = field('hello', 5, false);
    setTextFieldValue(other, 'Oh, hello');
    expect(other.range).toEqual([]);
  });
});
