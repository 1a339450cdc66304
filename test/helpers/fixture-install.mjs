// App folders with their own dependencies (agent frameworks, …), kept out of the repository's
// lockfile: test/fixtures/<name>/ holds package.json + package-lock.json; installFixture(name)
// runs `npm ci` into the gitignored test/.fixtures/<name>/ unless that install is current (same
// lockfile), then links this llm-otel into its node_modules so `llm-otel/register` and
// `import 'llm-otel'` resolve to the repository's dist/. Apps are copied beside node_modules.
//
//   const dir = await installFixture('vercel-ai');   // test/.fixtures/vercel-ai
//   copyApps(dir, ['agent.mjs'])                      // from test/fixtures/vercel-ai/apps/

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function lockHash(src) {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) h.update(readFileSync(join(src, f)));
  return h.digest('hex');
}

/** Installs test/fixtures/<name> into test/.fixtures/<name> (npm ci) unless current; returns that folder. */
export async function installFixture(name) {
  const src = join(REPO, 'test', 'fixtures', name);
  const dir = join(REPO, 'test', '.fixtures', name);
  const stamp = join(dir, '.installed');
  const want = lockHash(src);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(src, 'package.json'), join(dir, 'package.json'));
    copyFileSync(join(src, 'package-lock.json'), join(dir, 'package-lock.json'));
    await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: dir,
      maxBuffer: 64 << 20,
      timeout: 600_000,
      killSignal: 'SIGKILL',
    });
    writeFileSync(stamp, want);
  }
  const link = join(dir, 'node_modules', 'llm-otel');
  rmSync(link, { recursive: true, force: true });
  symlinkSync(REPO, link, 'dir');
  return dir;
}

/** Copies app files from test/fixtures/<name>/apps/ into the installed folder; returns their paths. */
export function copyApps(name, dir, files) {
  return files.map((f) => {
    const to = join(dir, f);
    copyFileSync(join(REPO, 'test', 'fixtures', name, 'apps', f), to);
    return to;
  });
}
