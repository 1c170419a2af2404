// The hook's size as an application bundles it (the package's build): minified, React external, and gzipped.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const result = await build({
  entryPoints: ['packages/workshop-data-react/dist/index.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  external: ['react'],
  write: false,
  logLevel: 'warning',
});
const code = result.outputFiles[0].contents;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`useWorkshopStepData: ${kib(code.length)} minified, ${kib(gzipSync(code, { level: 9 }).length)} gzipped`);
