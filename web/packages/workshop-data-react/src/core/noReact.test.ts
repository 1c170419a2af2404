/// <reference types="vite/client" />
// The core is framework-free: nothing it imports, directly or through other modules of the
// package, imports React (or is a .tsx file).
import { expect, it } from 'vitest';

/** The package's sources, by path relative to src/ ("core/loop.ts"). */
const sources: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob<string>(['../**/*.ts', '../**/*.tsx', '!../**/*.test.*'], { query: '?raw', import: 'default', eager: true })).map(
    // Vite names this folder's files "./x.ts" and the others "../y.ts".
    ([path, text]) => [path.startsWith('./') ? `core/${path.slice(2)}` : path.replace(/^\.\.\//, ''), text],
  ),
);

function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

function join(from: string, spec: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of spec.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/').replace(/\.js$/, '.ts');
}

/** Every module `entry` reaches, and the bare packages they import. */
function reach(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = sources[file] ?? sources[file.replace(/\.ts$/, '.tsx')];
    if (source === undefined) throw new Error(`${file} is not a source of the package`);
    for (const spec of importsOf(source)) {
      if (spec.startsWith('.')) visit(join(file, spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

it('no module the core reaches imports React', () => {
  const { files, packages } = reach('core/index.ts');
  expect(files.length).toBeGreaterThan(5);
  expect(packages.filter((p) => /^react(-dom)?(\/|$)/.test(p))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.tsx'))).toEqual([]);
  expect(packages.sort()).toEqual(['idb-keyval']);
});

it('the check sees React where it is imported (the hooks)', () => {
  expect(reach('uploads.ts').packages).toContain('react');
  expect(reach('index.ts').packages).toContain('react');
});
