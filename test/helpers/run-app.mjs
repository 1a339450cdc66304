// Runs an app file in a child Node process, optionally preloading llm-otel/register, and collects
// its output. The package resolves as `llm-otel` from any cwd inside the repository through the
// package's self-reference ("exports" of the repo's own package.json), for --import and --require.
//
//   const r = await runApp('test/.matrix/v6/basic.mjs', { preload: 'import', env: { ... } });
//   r.code, r.signal, r.stdout, r.stderr, r.timedOut, r.durationMs, r.afterMarkMs

import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';

/** Variables of the parent that would silently reconfigure the child (llm-otel, OTel, node:test). */
function inheritedEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(LLM_OTEL_|OTEL_)/.test(k) || k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT' || k.startsWith('OPENAI_')) continue;
    env[k] = v;
  }
  return env;
}

/**
 * Options:
 *   env        extra environment (undefined values delete a variable)
 *   args       arguments after the app path
 *   preload    'import' → --import llm-otel/register, 'require' → --require llm-otel/register, null
 *   nodeArgs   extra node flags (before the app path)
 *   cwd        default: the app's directory
 *   timeoutMs  SIGKILL after this long (default 30 s); the result then has timedOut: true
 *   signalWhen { text, signal = 'SIGTERM' }: send the signal once stdout contains text
 *   mark       text: the result's afterMarkMs is how long the process ran after stdout first
 *              contained it (e.g. after the app said its own work was over); null if it never did
 */
export function runApp(appPath, options = {}) {
  const { env = {}, args = [], preload = null, nodeArgs = [], timeoutMs = 30_000, signalWhen = null, mark = null } = options;
  const app = resolve(appPath);
  const cwd = options.cwd ?? dirname(app);
  const flags = [...nodeArgs];
  if (preload === 'import') flags.push('--import', 'llm-otel/register');
  else if (preload === 'require') flags.push('--require', 'llm-otel/register');
  else if (preload !== null && preload !== undefined)
    throw new Error(`runApp: preload must be 'import', 'require' or null, not ${preload}`);

  const childEnv = inheritedEnv();
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = String(v);
  }

  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [...flags, app, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let signalled = false;
    let markedAt = null;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      stdout += d;
      if (mark !== null && markedAt === null && stdout.includes(mark)) markedAt = process.hrtime.bigint();
      if (signalWhen && !signalled && stdout.includes(signalWhen.text)) {
        signalled = true;
        child.kill(signalWhen.signal ?? 'SIGTERM');
      }
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const now = process.hrtime.bigint();
      const durationMs = Number(now - started) / 1e6;
      const afterMarkMs = markedAt === null ? null : Number(now - markedAt) / 1e6;
      resolvePromise({ code, signal, stdout, stderr, timedOut, durationMs, afterMarkMs });
    });
  });
}

/** Runs async task functions with at most `limit` in flight; resolves to their results in order. */
export async function pool(tasks, limit = 2) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
