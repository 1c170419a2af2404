/** The copy a step takes of every change: what a JSON round trip gives, without serialising. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { clone } from './stepStore.js';

/** Values an application may put in a step's data, JSON-safe or not. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.double(),
    fc.integer(),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('any'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('any'), { maxKeys: 5 }),
  ),
})).any;

describe('clone', () => {
  it('gives what JSON.parse(JSON.stringify(value)) gives', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 6 }), (data) => {
        expect(clone(data)).toStrictEqual(JSON.parse(JSON.stringify(data)));
      }),
      { numRuns: 2000 },
    );
  });

  it('shares no object or array with the original', () => {
    const original = { text: 'x'.repeat(1000), list: [{ id: 'a', done: false }], nested: { deep: { n: 1 } } };
    const copy = clone(original);
    original.list[0]!.done = true;
    original.list.push({ id: 'b', done: true });
    original.nested.deep.n = 2;
    expect(copy).toEqual({ text: 'x'.repeat(1000), list: [{ id: 'a', done: false }], nested: { deep: { n: 1 } } });
  });

  it('keeps a "__proto__" key as a key, as JSON.parse does', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = clone(data);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});
