// Copies the Swagger UI assets (the pinned swagger-ui-dist package) into dist/swagger-ui, where
// the server serves them for /api/docs: the API docs load nothing from another origin.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const source = dirname(require.resolve('swagger-ui-dist/package.json'));
const target = join(dirname(new URL(import.meta.url).pathname), '..', 'dist', 'swagger-ui');
mkdirSync(target, { recursive: true });
for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE']) {
  copyFileSync(join(source, file), join(target, file));
}
