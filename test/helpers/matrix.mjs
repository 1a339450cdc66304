// The openai major-version matrix. Hooks match the module name `openai`, so an app must load a
// package literally named `openai`: test/.matrix/vN/node_modules/openai is a COPY of
// node_modules/openai-vN (a symlink would resolve to the real path `openai-vN` and not match).
// App templates from test/apps/ are copied next to it, so `import OpenAI from 'openai'` in
// test/.matrix/vN/<app> loads major N. Idempotent and safe when test files run concurrently.

import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, '..', '..');
export const MATRIX_ROOT = join(REPO_ROOT, 'test', '.matrix');
export const APPS_DIR = join(REPO_ROOT, 'test', 'apps');
export const OPENAI_MAJORS = [4, 5, 6, 7];

const versionOf = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};

/** Ensures test/.matrix/v<major>/node_modules/openai is a copy of node_modules/openai-v<major>. */
export function ensureOpenAI(major) {
  const source = join(REPO_ROOT, 'node_modules', `openai-v${major}`);
  const wanted = versionOf(source);
  if (!wanted) throw new Error(`node_modules/openai-v${major} is not installed`);
  const dir = join(MATRIX_ROOT, `v${major}`);
  const target = join(dir, 'node_modules', 'openai');
  if (versionOf(target) === wanted) return dir;
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  // Copy aside, then rename: a concurrent test file never sees a half-copied package.
  const tmp = join(dir, 'node_modules', `.openai-${process.pid}-${Date.now()}`);
  cpSync(source, tmp, { recursive: true, dereference: true });
  try {
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (versionOf(target) !== wanted) throw e;
  }
  return dir;
}

/** Copies test/apps/<name> into test/.matrix/v<major>/ and returns the copy's path. */
export function installApp(major, name) {
  const dir = ensureOpenAI(major);
  const dest = join(dir, name);
  const text = readFileSync(join(APPS_DIR, name), 'utf8');
  let current = null;
  try {
    current = readFileSync(dest, 'utf8');
  } catch {
    /* not there yet */
  }
  if (current !== text) {
    const tmp = `${dest}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, dest);
  }
  return dest;
}

/** Installs several app templates for every major; returns { [major]: { [name]: path } }. */
export function installMatrix(names, majors = OPENAI_MAJORS) {
  const out = {};
  for (const m of majors) {
    out[m] = {};
    for (const n of names) out[m][n] = installApp(m, n);
  }
  return out;
}
