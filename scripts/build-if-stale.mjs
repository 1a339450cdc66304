#!/usr/bin/env node
// Runs scripts/build.mjs unless dist/ already is the type-checked build of the current sources, so
// `npm install` / `npm ci` in a clone build once (the `prepare` script) and `npm test` right after
// reuses that build. Any change since the last passing build (a file or folder under a source
// folder, a tsconfig, package.json, package-lock.json) makes it build again; `--force` always builds.
// dist/.built marks the last passing build: its mtime is when that build started.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built');
// Top-level folders that are never compiled into dist/ (every other folder counts as sources, so
// moving sources into a new folder needs no change here).
const NOT_SOURCES = new Set(['node_modules', 'dist', 'bin', 'test', 'bench', 'docs', 'tmp']);
const ROOT_INPUTS = /^(tsconfig.*\.json|package\.json|package-lock\.json)$/;

/** The newest mtime (ms) of a file or folder and, for a folder, of everything below it. */
function newest(path) {
  const st = statSync(path);
  let t = st.mtimeMs;
  if (st.isDirectory()) for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

/** Why dist/ must be built, or null when it is current. */
function staleReason() {
  if (!existsSync(stamp)) return 'no passing build yet';
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const out of [pkg.main, pkg.module, pkg.types]) {
    if (typeof out === 'string' && !existsSync(join(root, out))) return `${out} is missing`;
  }
  const built = statSync(stamp).mtimeMs;
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const input = e.isDirectory() ? !e.name.startsWith('.') && !NOT_SOURCES.has(e.name) : ROOT_INPUTS.test(e.name);
    if (input && newest(join(root, e.name)) >= built) return `${e.name} changed`;
  }
  return null;
}

let reason = process.argv.includes('--force') ? 'forced' : null;
if (!reason) {
  try {
    reason = staleReason();
  } catch (e) {
    reason = `cannot tell (${e.message})`;
  }
}
if (!reason) {
  console.log('build: dist/ is up to date with the sources (`npm run build` rebuilds it anyway)');
  process.exit(0);
}
try {
  createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('build: cannot build dist/: typescript is not installed — run `npm install` (with dev dependencies) first');
  process.exit(1);
}
console.log(`build: building dist/ (${reason})`);
const started = new Date();
rmSync(stamp, { force: true });
// Always the strict build: a stamp must never mark a build with type errors as passing.
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, "the last passing build of dist/ started at this file's mtime (scripts/build-if-stale.mjs)\n");
utimesSync(stamp, started, started);
