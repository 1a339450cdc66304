#!/usr/bin/env node
// Builds the dual ESM + CJS output with tsc. Emits even when type-checking fails (so parallel work
// is never blocked), but exits non-zero on any type error so `npm test` and CI stay strict.
// `--no-check` skips the failure (for quick local iterations only).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const strict = !process.argv.includes('--no-check');
// No clean step: parallel builds (tests running while another build starts) must never see an empty dist.
let failed = false;
for (const project of ['tsconfig.json', 'tsconfig.cjs.json', 'tsconfig.types.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
mkdirSync('dist/esm', { recursive: true });
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
if (failed && strict) {
  console.error('build: type errors (output was still emitted)');
  process.exit(1);
}
