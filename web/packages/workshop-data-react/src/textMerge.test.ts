// @vitest-environment node
// The word-level three-way merge: examples, and properties over random texts and random pairs
// of edits (fast-check, seeded so a failure is reproducible).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { keepBothTexts, mergeSequences, mergeText, textTokens } from './textMerge.js';

const SEED = 20261208;
const RUNS = 5_000;
/** Room for a slow or busy machine: how fast the merge is is measured, not asserted. */
const LONG_RUN_MS = 60_000;

/** The base texts' characters; each side inserts characters of its own, so every inserted
 * character in a merge can be traced to the side that typed it. */
const BASE_CHARS = ['a', 'b', 'c', '.', ' ', ' ', '\n'];
const OURS_CHARS = [...'αβγδεζ', '😀', ' '];
const THEIRS_CHARS = [...'жзийкл', '🌱', ' '];

interface Edit {
  /** Where in the base (a character index) and how many base characters it replaces. */
  at: number;
  deleted: number;
  inserted: string;
}

/** The base with these edits applied (sorted by place; an edit overlapping an earlier one of
 * the same side is dropped, so each inserted piece is in the side's text whole). */
function applyEdits(base: string, edits: Edit[]): { text: string; pieces: string[] } {
  let text = '';
  let position = 0;
  const pieces: string[] = [];
  for (const edit of [...edits].sort((a, b) => a.at - b.at)) {
    const at = Math.min(edit.at, base.length);
    if (at < position) continue;
    const end = Math.min(at + edit.deleted, base.length);
    text += base.slice(position, at) + edit.inserted;
    if (edit.inserted) pieces.push(edit.inserted);
    position = end;
  }
  return { text: text + base.slice(position), pieces };
}

const sideEdits = (chars: string[]) =>
  fc.array(
    fc.record({
      at: fc.nat(40),
      deleted: fc.nat(6),
      inserted: fc.array(fc.constantFrom(...chars), { maxLength: 8 }).map((c) => c.join('')),
    }),
    { maxLength: 3 },
  );

const anyScenario = fc
  .record({
    base: fc.array(fc.constantFrom(...BASE_CHARS), { maxLength: 40 }).map((c) => c.join('')),
    ours: sideEdits(OURS_CHARS),
    theirs: sideEdits(THEIRS_CHARS),
  })
  .map(({ base, ours, theirs }) => {
    const mine = applyEdits(base, ours);
    const other = applyEdits(base, theirs);
    return { base, ours: mine.text, theirs: other.text, oursPieces: mine.pieces, theirsPieces: other.pieces };
  });

function count(text: string, chars: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const char of text) if (char !== ' ' && chars.includes(char)) counts.set(char, (counts.get(char) ?? 0) + 1);
  return counts;
}

function sameCounts(a: Map<string, number>, b: Map<string, number>): boolean {
  return a.size === b.size && [...a].every(([char, n]) => b.get(char) === n);
}

describe('mergeText properties', () => {
  it('keeps each piece a side inserted contiguous, and every character of it', () => {
    fc.assert(
      fc.property(anyScenario, ({ base, ours, theirs, oursPieces, theirsPieces }) => {
        const { text } = mergeText(base, ours, theirs);
        return (
          oursPieces.every((piece) => text.includes(piece)) &&
          theirsPieces.every((piece) => text.includes(piece)) &&
          sameCounts(count(text, OURS_CHARS), count(ours, OURS_CHARS)) &&
          sameCounts(count(text, THEIRS_CHARS), count(theirs, THEIRS_CHARS))
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, LONG_RUN_MS);

  it('keeps both whole versions, theirs first, whenever it reports a conflict', () => {
    fc.assert(
      fc.property(anyScenario, ({ base, ours, theirs }) => {
        const merged = mergeText(base, ours, theirs);
        return !merged.conflicted || merged.text === keepBothTexts(ours, theirs);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, LONG_RUN_MS);

  it('applies edits of words apart from each other exactly, without a conflict', () => {
    // Distinct base words; each side rewrites some, never two neighbouring words of the text.
    const wordScenario = fc
      .record({
        words: fc.integer({ min: 1, max: 12 }),
        changes: fc.array(fc.record({ side: fc.boolean(), word: fc.array(fc.constantFrom(...'αβγжзи'), { maxLength: 5 }) }), {
          maxLength: 12,
        }),
      })
      .map(({ words, changes }) => {
        const baseWords = Array.from({ length: words }, (_, i) => `w${i}`);
        const ours = [...baseWords];
        const theirs = [...baseWords];
        const expected = [...baseWords];
        // Only every other word may change, so no two changed words touch.
        changes.slice(0, Math.ceil(words / 2)).forEach(({ side, word }, i) => {
          const replacement = `${side ? 'o' : 't'}${word.join('')}`;
          (side ? ours : theirs)[i * 2] = replacement;
          expected[i * 2] = replacement;
        });
        return { base: baseWords.join(' '), ours: ours.join(' '), theirs: theirs.join(' '), expected: expected.join(' ') };
      });
    fc.assert(
      fc.property(wordScenario, ({ base, ours, theirs, expected }) => {
        const merged = mergeText(base, ours, theirs);
        return merged.text === expected && !merged.conflicted;
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('is the other side’s text when one side changed nothing, and the edit when both made it', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (base, edited) => {
        expect(mergeText(base, base, edited)).toEqual({ text: edited, conflicted: false });
        expect(mergeText(base, edited, base)).toEqual({ text: edited, conflicted: false });
        expect(mergeText(base, edited, edited)).toEqual({ text: edited, conflicted: false });
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('splits a text into words and whitespace that join to it again', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => textTokens(text).join('') === text),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('mergeText examples', () => {
  it('keeps two full rewrites of one sentence whole: the other device’s, a blank line, this one’s', () => {
    const base = 'I want to grow as a leader this year.';
    const online = 'My team needs me to be more present.';
    const offline = 'Honestly, I need a new job where I can learn.';
    // The offline device comes back: it is "ours", the server's copy "theirs".
    expect(mergeText(base, offline, online)).toEqual({
      text: 'My team needs me to be more present.\n\nHonestly, I need a new job where I can learn.',
      conflicted: true,
    });
  });

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

  it('keeps both whole versions when both rewrote the same word', () => {
    expect(mergeText('I like cats a lot', 'I like dogs a lot', 'I like cows a lot')).toEqual({
      text: 'I like cows a lot\n\nI like dogs a lot',
      conflicted: true,
    });
  });

  it('counts edits of neighbouring words as one place', () => {
    expect(mergeText('one two three', 'one TWO three', 'one two THREE').conflicted).toBe(false);
    expect(mergeText('one two three', 'one TWO three', 'one twoo three').conflicted).toBe(true);
    expect(mergeText('one two', 'one two and more', 'one two, then').conflicted).toBe(true);
  });

  it('keeps both sentences typed into the same empty field', () => {
    expect(mergeText('', 'Written on the phone.', 'Written on the laptop.')).toEqual({
      text: 'Written on the laptop.\n\nWritten on the phone.',
      conflicted: true,
    });
  });

  it('keeps a rewrite over a deletion of the same words, with the deletion’s version', () => {
    expect(mergeText('one two three', 'one three', 'one TWO three')).toEqual({ text: 'one TWO three\n\none three', conflicted: true });
  });

  it('keeps characters outside the Basic Multilingual Plane whole', () => {
    expect(mergeText('a 😀 b', 'a 😀 b c', 'z a 😀 b')).toEqual({ text: 'z a 😀 b c', conflicted: false });
  });

  it('keeps one version when it holds the other whole, and one blank line between two', () => {
    expect(keepBothTexts('one', 'two')).toBe('two\n\none');
    expect(keepBothTexts('one', 'two\n')).toBe('two\n\none');
    expect(keepBothTexts('one', 'two\n\n')).toBe('two\n\none');
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
