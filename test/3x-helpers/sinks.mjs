// Helpers of the context tests (test/30-*.test.mjs … 32-*): run an app under llm-otel/register
// with a fresh SQLite call log and OTLP/JSON receiver, read back both sinks, and check that they
// tell the same story (span ids, parents, session/user/agent). No side effects on import (node
// --test also loads this file as a test file).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startOtlpReceiver } from '../helpers/otlp-receiver.mjs';
import { runApp } from '../helpers/run-app.mjs';

export const APPS = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps');

/** Every row of the tables and the run-totals view (empty lists when the file does not exist). */
export function readDb(path) {
  if (!existsSync(path)) return { calls: [], runs: [], totals: [], messages: [] };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const parse = (r) => ({ ...r, tags: r.tags ? JSON.parse(r.tags) : null, metadata: r.metadata ? JSON.parse(r.metadata) : null });
    return {
      calls: db.prepare('SELECT * FROM llm_calls ORDER BY id').all().map(parse),
      runs: db.prepare('SELECT * FROM llm_runs ORDER BY id').all(),
      totals: db.prepare('SELECT * FROM llm_run_totals').all(),
      messages: db.prepare('SELECT * FROM llm_messages ORDER BY call_id, direction, position').all(),
    };
  } finally {
    db.close();
  }
}

/** Runs one SQL query on a call-log file. */
export function queryDb(path, sql, ...params) {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

/** The JSON lines an app printed (lines starting with `{`). */
export function jsonLines(stdout) {
  const out = [];
  for (const l of stdout.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l));
    } catch {
      /* not ours */
    }
  }
  return out;
}

/**
 * Runs `app` (path relative to test/apps or absolute) with llm-otel preloaded, a temp DB and an
 * OTLP/JSON receiver; resolves to the run, the DB rows and the OTLP spans. The temp directory stays
 * until `cleanup()`. Options: preload, env, args, nodeArgs, openaiUrl (required), timeoutMs,
 * signalWhen (as runApp's).
 */
export async function runWithSinks(
  app,
  { preload = 'import', env = {}, args = [], nodeArgs = [], openaiUrl, timeoutMs = 30_000, signalWhen = null } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'llm-otel-ctx-'));
  const dbPath = join(dir, 'calls.db');
  const rx = await startOtlpReceiver();
  try {
    const run = await runApp(app.startsWith('/') ? app : join(APPS, app), {
      preload,
      args,
      nodeArgs,
      timeoutMs,
      signalWhen,
      env: {
        TEST_OPENAI_URL: openaiUrl,
        LLM_OTEL_DB: dbPath,
        OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'llm-otel-context-app',
        ...env,
      },
    });
    await rx.settle();
    const db = readDb(dbPath);
    return {
      run,
      lines: jsonLines(run.stdout),
      ...db,
      dbPath,
      /** Runs SQL on the call log (until cleanup()). */
      sql: (q, ...p) => (existsSync(dbPath) ? queryDb(dbPath, q, ...p) : []),
      allSpans: [...rx.spans],
      spans: rx.spans.filter((s) => s.scope.name === 'llm-otel'),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } finally {
    await rx.close();
  }
}

/** Asserts the child ran cleanly: exit 0, no signal, no timeout, no stack trace on stderr. */
export function assertCleanRun(run, label) {
  assert.equal(run.timedOut, false, `${label}: timed out\n${run.stderr}`);
  assert.equal(run.signal, null, `${label}: killed by ${run.signal}\n${run.stderr}`);
  assert.equal(run.code, 0, `${label}: exit code ${run.code}\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `${label}: stack trace on stderr\n${run.stderr}`);
}

const orNull = (v) => (v === undefined || v === '' ? null : v);

/**
 * The same ids reach both sinks: every call/run row has exactly one llm-otel OTLP span with its
 * span id, the same trace id and parent span id, and equal session/user/agent/parent-call
 * attributes; and every llm-otel GenAI span over OTLP has a row.
 */
export function assertSinksAgree({ calls, runs, spans }, label) {
  const byId = new Map();
  for (const s of spans) {
    assert.equal(byId.has(s.spanId), false, `${label}: span ${s.spanId} (${s.name}) arrived twice over OTLP`);
    byId.set(s.spanId, s);
  }
  const rows = [...calls.map((r) => ['call', r]), ...runs.map((r) => ['run', r])];
  for (const [kind, row] of rows) {
    const s = byId.get(row.span_id);
    const what = `${label}: ${kind} ${row.span_id} (${row.session_id ?? '-'} ${kind === 'run' ? row.name : row.request_model})`;
    assert.ok(s, `${what}: no OTLP span with this span id`);
    assert.equal(s.traceId, row.trace_id, `${what}: trace id`);
    assert.equal(orNull(s.parentSpanId), row.parent_span_id, `${what}: parent span id`);
    assert.equal(orNull(s.attributes['llm_otel.parent_call_id']), row.parent_call_id, `${what}: llm_otel.parent_call_id`);
    assert.equal(orNull(s.attributes['session.id']), row.session_id, `${what}: session.id`);
    assert.equal(orNull(s.attributes['user.id']), row.user_id, `${what}: user.id`);
    assert.equal(orNull(s.attributes['gen_ai.agent.name']), row.agent_name, `${what}: gen_ai.agent.name`);
    if (kind === 'run') {
      assert.equal(s.kindName, 'INTERNAL', `${what}: span kind`);
      assert.equal(orNull(s.attributes['gen_ai.tool.call.id']), row.tool_call_id, `${what}: gen_ai.tool.call.id`);
      assert.equal(s.status.codeName === 'ERROR' ? 'error' : 'ok', row.status === 'error' ? 'error' : 'ok', `${what}: status`);
      assert.equal(s.attributes['llm_otel.status'], row.status, `${what}: llm_otel.status`);
    } else {
      assert.equal(s.kindName, 'CLIENT', `${what}: span kind`);
      assert.equal(orNull(s.attributes['gen_ai.conversation.id']), row.conversation_id, `${what}: gen_ai.conversation.id`);
      assert.deepEqual(s.attributes['llm_otel.tags'] ?? null, row.tags, `${what}: llm_otel.tags`);
    }
  }
  const genAi = spans.filter((s) => s.attributes['gen_ai.operation.name'] !== undefined);
  assert.equal(genAi.length, rows.length, `${label}: ${genAi.length} llm-otel spans over OTLP, ${rows.length} rows in the DB`);
}

/**
 * What llm_run_totals must say for `run`, computed from the call rows: every call beneath it,
 * recursively through parent_call_id (through nested runs and through calls).
 */
export function expectedTotals(run, calls, runs) {
  const under = new Set([run.span_id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of [...runs, ...calls]) {
      if (!under.has(r.span_id) && r.parent_call_id && under.has(r.parent_call_id)) {
        under.add(r.span_id);
        grew = true;
      }
    }
  }
  const mine = calls.filter((c) => under.has(c.span_id));
  const sum = (k) => mine.reduce((a, c) => a + (c[k] ?? 0), 0);
  const costs = mine.map((c) => c.cost).filter((c) => c !== null);
  const models = [...new Set(mine.map((c) => c.response_model ?? c.request_model).filter((m) => m !== null))].sort();
  return {
    calls: mine.length,
    errors: mine.filter((c) => c.status !== 'ok').length,
    input_tokens: sum('input_tokens'),
    output_tokens: sum('output_tokens'),
    cost: costs.length ? costs.reduce((a, b) => a + b, 0) : null,
    avg_duration_ms: mine.length ? sum('duration_ms') / mine.length : null,
    models: models.length ? models.join(',') : null,
  };
}

/** Asserts llm_run_totals of every run equals the sums of the calls beneath it. */
export function assertRunTotals({ calls, runs, totals }, label) {
  assert.equal(totals.length, runs.length, `${label}: one llm_run_totals row per run`);
  const byId = new Map(totals.map((t) => [t.span_id, t]));
  for (const run of runs) {
    const t = byId.get(run.span_id);
    assert.ok(t, `${label}: no totals for run ${run.span_id}`);
    const want = expectedTotals(run, calls, runs);
    const got = {
      calls: t.calls,
      errors: t.errors,
      input_tokens: t.input_tokens,
      output_tokens: t.output_tokens,
      cost: t.cost,
      avg_duration_ms: t.avg_duration_ms,
      models: t.models,
    };
    for (const k of ['cost', 'avg_duration_ms']) {
      if (typeof want[k] === 'number' && typeof got[k] === 'number' && Math.abs(want[k] - got[k]) < 1e-6 * Math.max(1, Math.abs(want[k])))
        got[k] = want[k];
    }
    assert.deepEqual(got, want, `${label}: llm_run_totals of ${run.kind} ${run.name} ${run.span_id} (session ${run.session_id})`);
  }
}
