import { describe, expect, it } from 'vitest';
import { csvCell, toCsv } from './csv';

describe('csv', () => {
  it('quotes what must be quoted and doubles quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(3)).toBe('3');
  });
  it('never lets a spreadsheet run a cell as a formula', () => {
    for (const cell of ['=SUM(A1)', '+1', '-2', '@cmd', '\tx', '\r=1']) {
      expect(csvCell(cell).replace(/^"/, '').startsWith("'")).toBe(true);
    }
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
  it('joins rows with CRLF', () => {
    expect(toCsv([['a', 'b'], ['1', '=2']])).toBe("a,b\r\n1,\"'=2\"\r\n");
  });
});
