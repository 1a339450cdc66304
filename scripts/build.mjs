#!/usr/bin/env node
// Builds the dual ESM + CJS output with tsc. Emits even when type-checking fails (so parallel work
// is never blocked), but exits non-zero on any type error so `npm test` and CI stay strict.
// `--no-check` skips the failure (for quick local iterations only).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const strict = !process.argv.includes('--no-check');
// No clean step: parallel builds (tests running while another build starts) must never see an empty dist.
let failed = false;
for (const project of ['tsconfig.json', 'tsconfig.cjs.json', 'tsconfig.types.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
// ...but outputs whose source was moved or deleted go: a stale module must not be loaded or packed.
for (const kind of ['esm', 'cjs', 'types']) pruneStale(join('dist', kind), '');
mkdirSync('dist/esm', { recursive: true });
mkdirSync('dist/cjs', { recursive: true });
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
copyDashboardAssets();
if (failed && strict) {
  console.error('build: type errors (output was still emitted)');
  process.exit(1);
}

function pruneStale(dir, rel) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    const source = join(rel, e.name);
    if (e.isDirectory()) {
      pruneStale(path, source);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true, force: true });
      continue;
    }
    const m = /^(.*)\.(?:js|d\.ts)$/.exec(source);
    if (m && !existsSync(`${m[1]}.ts`)) rmSync(path, { force: true });
  }
}

/**
 * The dashboard's browser files (src/ui/web, plain ES modules: nothing to compile) and uPlot's
 * built files (a devDependency, so the published package needs no runtime dependency for it)
 * into dist/ui, which the package ships. Rebuilt whole each time: a removed file goes too.
 */
function copyDashboardAssets() {
  const out = join('dist', 'ui');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(join('src', 'ui', 'web'))) copyFileSync(join('src', 'ui', 'web', name), join(out, name));
  const uplot = dirname(require.resolve('uplot/package.json'));
  copyFileSync(join(uplot, 'dist', 'uPlot.iife.min.js'), join(out, 'uPlot.iife.min.js'));
  copyFileSync(join(uplot, 'dist', 'uPlot.min.css'), join(out, 'uPlot.min.css'));
  copyFileSync(join(uplot, 'LICENSE'), join(out, 'uPlot.LICENSE.txt'));
}
