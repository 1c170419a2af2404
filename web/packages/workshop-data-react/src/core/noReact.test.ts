// @vitest-environment node
// The core is framework-free: nothing it imports, directly or through other modules of the
// package, imports React (or is a .tsx file).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

/** Every module the core's entry point reaches, and the bare packages they import. */
export function reach(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], packages: [...packages] };
}

it('no module the core reaches imports React', () => {
  const { files, packages } = reach(resolve(here, 'index.ts'));
  expect(files.length).toBeGreaterThan(5);
  expect(packages.filter((p) => p === 'react' || p.startsWith('react/') || p.startsWith('react-dom'))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.tsx'))).toEqual([]);
  expect(packages.sort()).toEqual(['idb-keyval']);
});

it('the check sees React where it is imported (the hooks)', () => {
  const { packages } = reach(resolve(here, '../uploads.ts'));
  expect(packages).toContain('react');
});
