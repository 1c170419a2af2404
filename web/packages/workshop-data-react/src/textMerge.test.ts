// @vitest-environment node
// The character-level three-way merge: examples, and properties over random texts and random
// pairs of edits in different places (fast-check, seeded so a failure is reproducible).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { keepBothTexts, mergeSequences, mergeText } from './textMerge.js';

const SEED = 20261204;
const RUNS = 10_000;
/** Room for a slow or busy machine: how fast the merge is is measured, not asserted. */
const LONG_RUN_MS = 60_000;

/** Characters of the base texts; inserted characters come from another set, so each one in
 * the merge can be traced to the edit that inserted it. */
const BASE_CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;!?'];
const INSERTED_CHARS = [...'αβγδεζηθικλμνξπρστυφχψω', '😀', '🌱', 'é', 'ß', '\n'];

interface Edit {
  /** Base characters kept before this edit (at least one between two edits). */
  gap: string[];
  deleted: string[];
  inserted: string[];
  mine: boolean;
}

interface Scenario {
  base: string;
  ours: string;
  theirs: string;
  /** Both edits applied. */
  expected: string;
  inserted: string[];
}

function scenario(lead: string[], edits: Edit[], tail: string[]): Scenario {
  let base = lead.join('');
  let ours = base;
  let theirs = base;
  let expected = base;
  for (const edit of edits) {
    const gap = edit.gap.join('');
    const deleted = edit.deleted.join('');
    const inserted = edit.inserted.join('');
    base += gap + deleted;
    ours += gap + (edit.mine ? inserted : deleted);
    theirs += gap + (edit.mine ? deleted : inserted);
    expected += gap + inserted;
  }
  const end = tail.join('');
  return {
    base: base + end,
    ours: ours + end,
    theirs: theirs + end,
    expected: expected + end,
    inserted: edits.map((edit) => edit.inserted.join('')),
  };
}

const editShape = fc.record({
  gap: fc.integer({ min: 1, max: 4 }),
  deleted: fc.integer({ min: 0, max: 3 }),
  inserted: fc.array(fc.constantFrom(...INSERTED_CHARS), { maxLength: 4 }),
  mine: fc.boolean(),
});

/** Base texts whose characters are all different: where each edit applies is unambiguous, so
 * the merge must be exactly both edits applied. */
const distinctBaseScenario = fc
  .record({
    lead: fc.integer({ min: 0, max: 5 }),
    edits: fc.array(editShape, { maxLength: 6 }),
    tail: fc.integer({ min: 0, max: 5 }),
    offset: fc.nat(BASE_CHARS.length - 1),
  })
  .map(({ lead, edits, tail, offset }) => {
    let next = offset;
    const take = (n: number) => Array.from({ length: n }, () => BASE_CHARS[next++ % BASE_CHARS.length]!);
    const leadChars = take(lead);
    const built = edits
      .filter((edit) => edit.deleted > 0 || edit.inserted.length > 0)
      .map((edit) => ({ gap: take(edit.gap), deleted: take(edit.deleted), inserted: edit.inserted, mine: edit.mine }));
    return scenario(leadChars, built, take(tail));
  });

/** Any base text (few letters, so much repetition): where a deletion in a run of equal
 * characters applies is ambiguous, so only the inserted characters can be traced. */
const anyBaseScenario = fc
  .record({
    lead: fc.array(fc.constantFrom('a', 'b', ' '), { maxLength: 5 }),
    edits: fc.array(
      fc.record({
        gap: fc.array(fc.constantFrom('a', 'b', ' '), { minLength: 1, maxLength: 4 }),
        deleted: fc.array(fc.constantFrom('a', 'b', ' '), { maxLength: 3 }),
        inserted: fc.array(fc.constantFrom(...INSERTED_CHARS), { maxLength: 4 }),
        mine: fc.boolean(),
      }),
      { maxLength: 6 },
    ),
    tail: fc.array(fc.constantFrom('a', 'b', ' '), { maxLength: 5 }),
  })
  .map(({ lead, edits, tail }) => scenario(lead, edits.filter((e) => e.deleted.length > 0 || e.inserted.length > 0), tail));

function countInserted(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const char of text) if (INSERTED_CHARS.includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  return counts;
}

describe('mergeText properties', () => {
  it('applies both sides’ edits in different places: every inserted character, none deleted', () => {
    fc.assert(
      fc.property(distinctBaseScenario, ({ base, ours, theirs, expected }) => {
        const merged = mergeText(base, ours, theirs);
        return merged.text === expected && !merged.conflicted;
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, LONG_RUN_MS);

  it('does not depend on which side is this one', () => {
    fc.assert(
      fc.property(distinctBaseScenario, ({ base, ours, theirs }) => mergeText(base, ours, theirs).text === mergeText(base, theirs, ours).text),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('keeps every inserted character of both sides over any base text', () => {
    fc.assert(
      fc.property(anyBaseScenario, ({ base, ours, theirs, expected, inserted }) => {
        const { text } = mergeText(base, ours, theirs);
        const counts = countInserted(text);
        const wanted = countInserted(expected);
        return (
          counts.size === wanted.size &&
          [...wanted].every(([char, n]) => counts.get(char) === n) &&
          inserted.every((piece) => text.includes(piece))
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, LONG_RUN_MS);

  it('is the other side’s text when this side changed nothing, and the reverse', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (base, edited) => {
        expect(mergeText(base, base, edited)).toEqual({ text: edited, conflicted: false });
        expect(mergeText(base, edited, base)).toEqual({ text: edited, conflicted: false });
        expect(mergeText(base, edited, edited)).toEqual({ text: edited, conflicted: false });
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('mergeText examples', () => {
  it('keeps a sentence added at the start on one device and one at the end on another', () => {
    const base = 'I want to grow.';
    expect(mergeText(base, 'Today: I want to grow.', 'I want to grow. With my team.')).toEqual({
      text: 'Today: I want to grow. With my team.',
      conflicted: false,
    });
  });

  it('keeps a fix of one word and a new word elsewhere', () => {
    expect(mergeText('The quick brwn fox', 'The quick brown fox', 'The quick brwn fox jumps')).toEqual({
      text: 'The quick brown fox jumps',
      conflicted: false,
    });
  });

  it('keeps both versions of words both sides rewrote, this side’s first, and says so', () => {
    expect(mergeText('I like cats a lot', 'I like dogs a lot', 'I like cows a lot')).toEqual({
      text: 'I like dogs cows a lot',
      conflicted: true,
    });
  });

  it('keeps both rewrites of a word whole, with what each typed on after it', () => {
    expect(mergeText('base', 'mine too', 'theirs')).toEqual({ text: 'mine too theirs', conflicted: true });
    expect(mergeText('Note: base', 'Note: mine too', 'Note: theirs')).toEqual({ text: 'Note: mine too theirs', conflicted: true });
  });

  it('keeps both sentences typed into the same empty field', () => {
    expect(mergeText('', 'Written on the phone.', 'Written on the laptop.')).toEqual({
      text: 'Written on the phone. Written on the laptop.',
      conflicted: true,
    });
  });

  it('keeps a rewrite over a deletion of the same words', () => {
    expect(mergeText('one two three', 'one three', 'one TWO three')).toEqual({ text: 'one TWO three', conflicted: true });
  });

  it('keeps characters outside the Basic Multilingual Plane whole', () => {
    expect(mergeText('a 😀 b', 'a 😀 b c', 'z a 😀 b')).toEqual({ text: 'z a 😀 b c', conflicted: false });
  });

  it('joins both versions with one space unless one is there', () => {
    expect(keepBothTexts('one', 'two')).toBe('one two');
    expect(keepBothTexts('one ', 'two')).toBe('one two');
    expect(keepBothTexts('one', '\ntwo')).toBe('one\ntwo');
    expect(keepBothTexts('', 'two')).toBe('two');
    expect(keepBothTexts('one', '')).toBe('one');
    expect(keepBothTexts('three', 'TWO three')).toBe('TWO three');
    expect(keepBothTexts('a long text', 'long')).toBe('a long text');
  });
});

describe('mergeSequences', () => {
  it('keeps items both sides appended, this side’s first', () => {
    expect(mergeSequences([1, 2], [1, 2, 3], [1, 2, 4])).toEqual([{ ok: [1, 2] }, { ours: [3], theirs: [4] }]);
  });

  it('takes the same change made on both sides once', () => {
    expect(mergeSequences([1, 2], [1, 3], [1, 3])).toEqual([{ ok: [1] }, { ok: [3] }]);
  });
});
