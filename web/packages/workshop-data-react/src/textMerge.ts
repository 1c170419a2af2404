/**
 * Three-way merges of sequences (the words of a text, the items of a list): two edits of the
 * same base, each found as a diff against the base (jsdiff's Myers diff), applied together.
 * Edits of different places both survive; edits of the same place are a conflict: a list
 * keeps both sides' items, a text both whole versions.
 */
import { diffArrays } from 'diff';

/** A stretch of the merge: agreed on (`ok`), or edited differently on both sides. */
export type MergeChunk<T> = { ok: T[] } | { ours: T[]; theirs: T[] };

interface Hunk<T> {
  /** The base range [start, end) replaced by `items` (start === end: an insertion). */
  start: number;
  end: number;
  items: T[];
  side: 0 | 1;
}

function hunks<T>(base: T[], edited: T[], same: (a: T, b: T) => boolean, side: 0 | 1): Hunk<T>[] {
  // Only the stretch between the common start and end is diffed: an edit is usually small
  // against the text, and the diff's cost grows with the length it is given.
  let head = 0;
  while (head < base.length && head < edited.length && same(base[head]!, edited[head]!)) head += 1;
  let tail = 0;
  while (tail < base.length - head && tail < edited.length - head && same(base[base.length - 1 - tail]!, edited[edited.length - 1 - tail]!)) tail += 1;
  const found: Hunk<T>[] = [];
  let position = head;
  let open: Hunk<T> | null = null;
  for (const change of diffArrays(base.slice(head, base.length - tail), edited.slice(head, edited.length - tail), { comparator: same })) {
    if (!change.added && !change.removed) {
      open = null;
      position += change.value.length;
      continue;
    }
    if (!open) {
      open = { start: position, end: position, items: [], side };
      found.push(open);
    }
    if (change.removed) {
      open.end += change.value.length;
      position += change.value.length;
    } else {
      open.items.push(...change.value);
    }
  }
  return found;
}

/** Two edits touch the same place: their base ranges intersect, or both insert at one point. */
function overlaps<T>(a: Hunk<T>, b: Hunk<T>): boolean {
  if (a.start < b.end && b.start < a.end) return true;
  return a.start === b.start && a.start === a.end && b.start === b.end;
}

function applyHunks<T>(base: T[], members: Hunk<T>[], start: number, end: number): T[] {
  const out: T[] = [];
  let position = start;
  for (const hunk of members) {
    out.push(...base.slice(position, hunk.start), ...hunk.items);
    position = hunk.end;
  }
  out.push(...base.slice(position, end));
  return out;
}

export interface SequenceMergeOptions<T> {
  /** Whether two items are the same item (default: ===). */
  same?: (a: T, b: T) => boolean;
}

/** The three-way merge of `ours` and `theirs`, both edits of `base`, as a list of chunks. */
export function mergeSequences<T>(base: T[], ours: T[], theirs: T[], options: SequenceMergeOptions<T> = {}): MergeChunk<T>[] {
  const same = options.same ?? ((a: T, b: T) => a === b);
  const all = [...hunks(base, ours, same, 0), ...hunks(base, theirs, same, 1)].sort(
    (a, b) => a.start - b.start || a.end - b.end || a.side - b.side,
  );
  const chunks: MergeChunk<T>[] = [];
  let position = 0;
  let next = 0;
  while (next < all.length) {
    const group = [all[next] as Hunk<T>];
    const start = group[0]!.start;
    let end = group[0]!.end;
    next += 1;
    const bothSides = () => group.some((hunk) => hunk.side !== group[0]!.side);
    const joins = (hunk: Hunk<T>) => hunk.start < end || group.some((member) => member.side !== hunk.side && overlaps(member, hunk));
    while (next < all.length && joins(all[next]!)) {
      group.push(all[next]!);
      end = Math.max(end, all[next]!.end);
      next += 1;
    }
    if (start > position) chunks.push({ ok: base.slice(position, start) });
    const mine = applyHunks(base, group.filter((hunk) => hunk.side === 0), start, end);
    const other = applyHunks(base, group.filter((hunk) => hunk.side === 1), start, end);
    const agreed = mine.length === other.length && mine.every((item, i) => same(item, other[i]!));
    chunks.push(!bothSides() ? { ok: group[0]!.side === 0 ? mine : other } : agreed ? { ok: mine } : { ours: mine, theirs: other });
    position = end;
  }
  if (position < base.length) chunks.push({ ok: base.slice(position) });
  return chunks;
}

export interface TextMergeResult {
  text: string;
  /** Both sides changed the same or neighbouring words differently: `text` holds both
   * versions whole (see keepBothTexts). */
  conflicted: boolean;
}

/** The words of a text and the whitespace between them, in order (joined, the text again). */
export function textTokens(text: string): string[] {
  return text.match(/\s+|\S+/gu) ?? [];
}

/** Both whole versions of a text both sides changed in the same place: theirs (the server's),
 * then a blank line, then ours — never interleaved. One that holds the other whole (the other
 * side only deleted some of it, or both added the same words) is kept alone. */
export function keepBothTexts(ours: string, theirs: string): string {
  if (theirs.includes(ours)) return theirs;
  if (ours.includes(theirs)) return ours;
  const gap = theirs.endsWith('\n\n') || ours.startsWith('\n\n') ? '' : theirs.endsWith('\n') || ours.startsWith('\n') ? '\n' : '\n\n';
  return `${theirs}${gap}${ours}`;
}

function sameHunk(a: Hunk<string>, b: Hunk<string>): boolean {
  return a.start === b.start && a.end === b.end && a.items.length === b.items.length && a.items.every((item, i) => item === b.items[i]);
}

/**
 * The three-way merge of a text, by word: each side's changes against the base are found as
 * hunks of words and whitespace (a Myers diff of the tokens). When no hunk of one side
 * overlaps or touches a hunk of the other (a hunk that is the same on both sides counts once),
 * both sides' hunks are applied: an added sentence and a typo fixed elsewhere both survive.
 * Otherwise the text is a conflict, and both versions are kept whole (keepBothTexts) and
 * `conflicted` is true: no word of either side is interleaved with the other's or lost.
 */
export function mergeText(base: string, ours: string, theirs: string): TextMergeResult {
  if (ours === theirs || theirs === base) return { text: ours, conflicted: false };
  if (ours === base) return { text: theirs, conflicted: false };
  const baseTokens = textTokens(base);
  const same = (a: string, b: string) => a === b;
  const mine = hunks(baseTokens, textTokens(ours), same, 0);
  const other = hunks(baseTokens, textTokens(theirs), same, 1).filter((hunk) => !mine.some((twin) => sameHunk(twin, hunk)));
  const clash = mine.some((a) => other.some((b) => a.start <= b.end && b.start <= a.end));
  if (clash) return { text: keepBothTexts(ours, theirs), conflicted: true };
  const all = [...mine, ...other].sort((a, b) => a.start - b.start || a.end - b.end);
  return { text: applyHunks(baseTokens, all, 0, baseTokens.length).join(''), conflicted: false };
}
