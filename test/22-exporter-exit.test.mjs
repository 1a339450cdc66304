// Exporter: nothing lost on the way out. Each exit path runs in a child process that makes N
// awaited "calls" through the real SDK pipeline and CallLogSpanProcessor, then ends; the DB must
// hold exactly N calls and the app's output and exit status must be unchanged.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { runApp } from './2x-helpers/run.mjs';
import { scratch } from './2x-helpers/spans.mjs';

const N = 300;

function count(path) {
  const db = new Database(path, { readonly: true });
  try {
    return {
      calls: db.prepare('SELECT count(*) n FROM llm_calls').get().n,
      errors: db.prepare("SELECT count(*) n FROM llm_calls WHERE status = 'error'").get().n,
      messages: db.prepare('SELECT count(*) n FROM llm_messages').get().n,
      rollup: db.prepare('SELECT sum(calls) n FROM llm_usage_hourly').get().n,
    };
  } finally {
    db.close();
  }
}

const cases = [
  { mode: 'normal', code: 0, signal: null },
  { mode: 'exit', code: 7, signal: null },
  { mode: 'throw', code: 1, signal: null, stderr: /app crashed on purpose/ },
  { mode: 'signal', kill: 'SIGTERM', code: null, signal: 'SIGTERM' },
  { mode: 'signal', kill: 'SIGINT', code: null, signal: 'SIGINT' },
  { mode: 'late-span', code: 0, signal: null, extra: 1 },
];

for (const worker of [true, false]) {
  for (const c of cases) {
    test(`exit path ${c.mode}${c.kill ? ` ${c.kill}` : ''} (worker=${worker}): every finished call is written, exit unchanged`, async () => {
      const s = scratch(`exit-${c.mode}`);
      const path = `${s.dir}/calls.db`;
      try {
        const r = await runApp(
          { CALLLOG_DB: path, CALLLOG_MODE: c.mode, CALLLOG_N: String(N), CALLLOG_WORKER: worker ? '1' : '0' },
          { kill: c.kill },
        );
        assert.equal(r.code, c.code, r.stderr);
        assert.equal(r.signal, c.signal);
        const expectedOut = `app: ${N} calls done\napp: result 42\n${c.mode === 'signal' ? 'app: ready\n' : ''}`;
        assert.equal(r.stdout, expectedOut);
        assert.doesNotMatch(r.stderr, /\[llm-otel\]/);
        if (c.stderr) assert.match(r.stderr, c.stderr);
        const extra = c.extra ?? 0;
        assert.deepEqual(count(path), { calls: N + extra, errors: N / 10, messages: 3 * (N + extra), rollup: N + extra });
      } finally {
        s.cleanup();
      }
    });
  }
}

test('NODE_OPTIONS=--import preloads run in the app only, never inside the writer thread', async () => {
  const s = scratch('node-options');
  const path = `${s.dir}/calls.db`;
  const preload = `${s.dir}/preload.mjs`;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the preload's own template literal
  writeFileSync(preload, "import { isMainThread } from 'node:worker_threads';\nprocess._rawDebug(`preload main=${isMainThread}`);\n");
  try {
    const r = await runApp({ CALLLOG_DB: path, CALLLOG_N: '20', NODE_OPTIONS: `--import ${preload}` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stderr.match(/preload main=\w+/g), ['preload main=true']);
    assert.equal(count(path).calls, 20);
  } finally {
    s.cleanup();
  }
});
