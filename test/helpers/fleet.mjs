// Shared by the fleet tests (test/60–63): PostgreSQL or a clear reason why not (in CI a missing
// PostgreSQL fails the file instead of skipping it), a client, and reading rows back.

import { createRequire } from 'node:module';
import { test } from 'vitest';
import { postgresUnavailable } from './postgres.mjs';

const require = createRequire(import.meta.url);
export const pg = require('pg');

export const unavailable = postgresUnavailable();
if (unavailable && process.env.CI) throw new Error(`PostgreSQL is required in CI: ${unavailable}`);

/** `test`, or a skipped test that says why (outside CI only). */
export const pgTest = unavailable ? (name, ...rest) => test.skip(`${name} (skipped: ${unavailable})`, ...rest) : test;

/** A connected client (the caller ends it). */
export async function client(url) {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => {});
  await c.connect();
  return c;
}

/** Runs `fn` with a client, then ends it. */
export async function withClient(url, fn) {
  const c = await client(url);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Waits until `check()` is truthy (polling), at most `ms`; returns its last value. */
export async function until(check, ms = 30_000, every = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Runs test/apps/fleet-app.mjs under register in fleet mode. `ready` (async, optional) is polled
 * while the app waits after its calls; once true (or after `readyMs`) the app is let go.
 */
export async function runFleetApp({
  runApp,
  dir,
  openaiUrl,
  url,
  spool,
  args = [],
  env = {},
  ready,
  readyMs = 30_000,
  timeoutMs = 90_000,
  mark = null,
}) {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const wait = join(dir, `go-${Math.random().toString(36).slice(2)}`);
  const running = runApp(join(import.meta.dirname, '..', 'apps', 'fleet-app.mjs'), {
    preload: 'import',
    timeoutMs,
    mark,
    args: [...args, ...(ready ? ['--wait-file', wait] : [])],
    env: {
      TEST_OPENAI_URL: openaiUrl,
      LLM_OTEL_DB: url,
      LLM_OTEL_SPOOL: spool,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      ...env,
    },
  });
  let done = false;
  running.finally(() => (done = true));
  if (ready) {
    const end = Date.now() + readyMs;
    while (!done && Date.now() < end) {
      try {
        if (await ready()) break;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    writeFileSync(wait, '');
  }
  const r = await running;
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    r.result = JSON.parse(last);
  } catch {
    r.result = null;
  }
  return r;
}
