// Exporter: several processes writing one call log at once lose no rows (WAL, busy_timeout,
// IMMEDIATE transactions, and a concurrent first-time migration of a file that does not exist yet).

import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { runApp } from './2x-helpers/run.mjs';
import { scratch } from './2x-helpers/spans.mjs';

const PROCS = 4;
const N = 2000;

for (const worker of [true, false]) {
  test(`${PROCS} processes × ${N} calls into one new DB (worker=${worker}) → exactly ${PROCS * N} rows`, async () => {
    const s = scratch('concurrent');
    const path = `${s.dir}/shared.db`;
    try {
      const runs = await Promise.all(
        Array.from({ length: PROCS }, () =>
          runApp({ CALLLOG_DB: path, CALLLOG_N: String(N), CALLLOG_WORKER: worker ? '1' : '0' }, { timeoutMs: 120_000 }),
        ),
      );
      for (const r of runs) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `app: ${N} calls done\napp: result 42\n`);
        assert.doesNotMatch(r.stderr, /\[llm-otel\]/);
      }
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.prepare('SELECT count(*) n FROM llm_calls').get().n, PROCS * N);
        assert.equal(db.prepare('SELECT count(DISTINCT span_id) n FROM llm_calls').get().n, PROCS * N);
        assert.equal(db.prepare('SELECT count(*) n FROM llm_messages').get().n, 3 * PROCS * N);
        const perService = db.prepare('SELECT service_name, count(*) n FROM llm_calls GROUP BY service_name').all();
        assert.equal(perService.length, PROCS);
        assert.ok(perService.every((r) => r.n === N));
        assert.equal(db.prepare('SELECT sum(calls) n FROM llm_usage_hourly').get().n, PROCS * N);
        assert.equal(db.prepare('SELECT sum(errors) n FROM llm_usage_hourly').get().n, (PROCS * N) / 10);
        assert.equal(db.prepare('PRAGMA integrity_check').pluck().get(), 'ok');
      } finally {
        db.close();
      }
    } finally {
      s.cleanup();
    }
  });
}
