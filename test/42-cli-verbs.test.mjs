// CLI: every read verb against a call log written through the exporter's writer (the standard
// fixture in 4x-helpers/calllog.mjs), --json parsed and checked value by value, human tables
// checked for the same facts. (45-cli-demo runs the verbs against a real instrumented run.)

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { cli, exporterApi, scratch, standardItems, traceId, writeItems } from './4x-helpers/calllog.mjs';

const { SCHEMA_VERSION } = await exporterApi();

let s;
let db;
before(async () => {
  s = scratch('cli-verbs');
  db = join(s.dir, 'calls.db');
  await writeItems(db, standardItems());
});
after(() => s.cleanup());

function json(args) {
  const r = cli([...args, '--db', db, '--json']);
  assert.equal(r.code, 0, `llm-otel ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout);
}
function human(args) {
  const r = cli([...args, '--db', db]);
  assert.equal(r.code, 0, `llm-otel ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('calls: newest first, filters, limit; the --json shape', () => {
  const all = json(['calls']).calls;
  assert.deepEqual(
    all.map((c) => c.id),
    [6, 4, 3, 2, 1, 5],
  );
  const c1 = all.find((c) => c.id === 1);
  assert.deepEqual(
    {
      span_id: c1.span_id,
      trace_id: c1.trace_id,
      session_id: c1.session_id,
      user_id: c1.user_id,
      agent_name: c1.agent_name,
      request_model: c1.request_model,
      response_model: c1.response_model,
      input_tokens: c1.input_tokens,
      cached_input_tokens: c1.cached_input_tokens,
      output_tokens: c1.output_tokens,
      cost: c1.cost,
      currency: c1.currency,
      status: c1.status,
      duration_ms: c1.duration_ms,
      started_at: c1.started_at,
    },
    {
      span_id: 'c000000000000001',
      trace_id: traceId(1),
      session_id: 's1',
      user_id: 'alice',
      agent_name: 'planner',
      request_model: 'gpt-4o-mini',
      response_model: 'gpt-4o-mini-2024-07-18',
      input_tokens: 1000,
      cached_input_tokens: 400,
      output_tokens: 200,
      cost: 0.00039,
      currency: 'USD',
      status: 'ok',
      duration_ms: 900,
      started_at: '2026-11-20T10:00:00.100Z',
    },
  );
  assert.deepEqual(
    json(['calls', '--session', 's2']).calls.map((c) => c.id),
    [5],
  );
  assert.deepEqual(
    json(['calls', '--user', 'alice', '--limit', '2']).calls.map((c) => c.id),
    [4, 3],
  );
  assert.deepEqual(
    json(['calls', '--status', 'error']).calls.map((c) => c.id),
    [4],
  );
  assert.deepEqual(
    json(['calls', '--status', 'failed']).calls.map((c) => c.id),
    [4],
  );
  assert.deepEqual(
    json(['calls', '--model', 'gpt-4o*']).calls.map((c) => c.id),
    [4, 3, 2, 1],
  );
  assert.deepEqual(
    json(['calls', '--model', 'gpt-4o']).calls.map((c) => c.id),
    [4],
  );
  assert.deepEqual(
    json(['calls', '--agent', 'planner', '--since', '2026-11-20T10:00:01Z']).calls.map((c) => c.id),
    [3, 2],
  );
  assert.deepEqual(
    json(['calls', '--until', '2026-11-19']).calls.map((c) => c.id),
    [5],
  );
  assert.deepEqual(json(['calls', '--since', '1h']).calls, [], 'nothing in the last hour (fixture times are in the past)');
  const text = human(['calls']);
  const lines = text.trim().split('\n');
  assert.match(lines[0], /^id\s+started \(UTC\)\s+model\s+status\s+duration\s+in tok\s+out tok\s+cost/);
  assert.equal(lines.length, 7);
  assert.match(text, /2026-11-20 10:00:00\.100\s+gpt-4o-mini-2024-07-18\s+ok\s+900 ms\s+1,000\s+200\s+\$0\.000390\s+s1\s+alice\s+planner/);
  assert.match(text, /error RateLimitError 429/);
});

test('show: every column, parsed JSON columns, messages in order, by id or span id', () => {
  const a = json(['show', '1']);
  const b = json(['show', 'C000000000000001']);
  assert.deepEqual(a, b);
  assert.equal(a.call.id, 1);
  assert.deepEqual(a.call.finish_reasons, ['stop']);
  assert.equal(a.call.parent_call_id, 'a000000000000001');
  assert.deepEqual(
    a.messages.map((m) => `${m.direction}:${m.position}:${m.role}`),
    ['input:0:system', 'input:1:user', 'output:0:assistant'],
  );
  assert.deepEqual(a.messages[2].tool_calls, [{ id: 'call_1', name: 'search', arguments: '{"q":"Paris"}' }]);
  assert.equal(a.price, null);
  // Reasoning is its own column, printed before the answer.
  assert.deepEqual(
    json(['show', '3']).messages.map((m) => [m.content, m.reasoning]),
    [['Here are 3 flights.', 'Cheapest first.']],
  );
  assert.match(human(['show', '3']), /\[output 0\] assistant\n {2}reasoning: Cheapest first\.\n {2}Here are 3 flights\./);
  const text = human(['show', '4']);
  assert.match(text, /error_type\s+RateLimitError/);
  assert.match(text, /retry_count\s+2/);
  assert.match(text, /error_message\s+429 Rate limit reached/);
  // a run's span id shows the run and its totals
  const run = json(['show', 'a000000000000001']).run;
  assert.equal(run.name, 'planner');
  assert.deepEqual([run.totals.calls, run.totals.input_tokens, run.totals.output_tokens], [3, 2800, 550]);
});

test('trace: a tree linked by parent_call_id with durations, tokens and cost per node', () => {
  const t = json(['trace', traceId(1)]);
  assert.equal(t.trace_id, traceId(1));
  assert.equal(t.roots.length, 1);
  const agent = t.roots[0];
  assert.deepEqual(
    [agent.kind, agent.name, agent.duration_ms, agent.calls, agent.input_tokens, agent.output_tokens],
    ['agent', 'planner', 3000, 3, 2800, 550],
  );
  assert.ok(Math.abs(agent.cost - 0.00087) < 1e-12);
  assert.deepEqual(
    agent.children.map((c) => `${c.kind}:${c.span_id}`),
    ['call:c000000000000001', 'tool:b000000000000001', 'call:c000000000000003'],
  );
  const tool = agent.children[1];
  assert.deepEqual(
    tool.children.map((c) => [c.span_id, c.input_tokens, c.cost]),
    [['c000000000000002', 300, 0.000075]],
  );
  assert.equal(tool.input_tokens, 300);
  const text = human(['trace', traceId(1)]);
  assert.match(text, /^trace 0{31}2: 3 calls, 2 runs, 3\.00 s, 2,800 in \/ 550 out tokens, cost \$0\.000870/);
  assert.match(text, /└─ agent planner\s+3\.00 s\s+2,800\s+550\s+\$0\.000870\s+ok/);
  assert.match(text, /│ {2}└─ chat gpt-4o-mini → gpt-4o-mini-2024-07-18\s+400 ms\s+300\s+50\s+\$0\.000075/);
  // a failed call as its own trace
  const e = json(['trace', traceId(2)]).roots[0];
  assert.deepEqual([e.kind, e.status, e.error], ['call', 'error', 'RateLimitError: 429 Rate limit reached']);
});

test('session: totals, calls in order, runs', () => {
  const r = json(['session', 's1']);
  assert.deepEqual(
    r.calls.map((c) => c.id),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    r.runs.map((x) => x.name),
    ['planner', 'search'],
  );
  const sm = r.session;
  assert.deepEqual(
    [sm.calls, sm.errors, sm.error_rate, sm.input_tokens, sm.output_tokens, sm.traces, sm.currency],
    [4, 1, 0.25, 2800, 550, 2, 'USD'],
  );
  assert.ok(Math.abs(sm.cost - 0.00087) < 1e-12);
  assert.deepEqual([sm.p50_ms, sm.p95_ms], [700, 2500]);
  assert.deepEqual(sm.users, ['alice']);
  assert.equal(sm.first_at, '2026-11-20T10:00:00.100Z');
  assert.match(
    human(['session', 's1']),
    /session s1: 4 calls in 2 traces, 25% errors, 2,800 in \/ 550 out tokens, cost \$0\.000870, p50 700 ms, p95 2\.50 s/,
  );
});

test('stats --by model|user|agent|session|provider|hour|day', () => {
  const byModel = json(['stats', '--by', 'model']);
  assert.equal(byModel.by, 'model');
  assert.equal(byModel.source, 'llm_calls');
  const m = Object.fromEntries(byModel.rows.map((r) => [r.key, r]));
  assert.deepEqual(Object.keys(m), ['gpt-4o-mini', 'deepseek-chat', 'gpt-4o', 'my-local-model']);
  const mini = m['gpt-4o-mini'];
  assert.deepEqual(
    [
      mini.calls,
      mini.errors,
      mini.error_rate,
      mini.input_tokens,
      mini.output_tokens,
      mini.currency,
      mini.priced_calls,
      mini.p50_ms,
      mini.p95_ms,
    ],
    [3, 0, 0, 2800, 550, 'USD', 3, 700, 900],
  );
  assert.ok(Math.abs(mini.cost - 0.00087) < 1e-12);
  assert.deepEqual([m['gpt-4o'].errors, m['gpt-4o'].error_rate, m['gpt-4o'].cost], [1, 1, null]);
  assert.equal(m['my-local-model'].cost, null, 'unpriced calls have no cost, not 0');
  const keys = (by, extra = []) => json(['stats', '--by', by, ...extra]).rows.map((r) => [r.key, r.calls]);
  assert.deepEqual(keys('user'), [
    ['alice', 4],
    ['bob', 1],
    [null, 1],
  ]);
  assert.deepEqual(keys('agent'), [
    ['planner', 3],
    [null, 3],
  ]);
  assert.deepEqual(keys('session'), [
    ['s1', 4],
    ['s2', 1],
    [null, 1],
  ]);
  assert.deepEqual(keys('provider'), [
    ['openai', 5],
    ['deepseek', 1],
  ]);
  assert.deepEqual(keys('day'), [
    ['2026-11-18', 1],
    ['2026-11-20', 5],
  ]);
  assert.deepEqual(keys('hour'), [
    ['2026-11-18T08:00', 1],
    ['2026-11-20T10:00', 3],
    ['2026-11-20T11:00', 1],
    ['2026-11-20T12:00', 1],
  ]);
  assert.deepEqual(keys('model', ['--user', 'alice', '--status', 'ok']), [['gpt-4o-mini', 3]]);
  const text = human(['stats', '--by', 'model']);
  assert.match(text, /^model\s+calls\s+errors\s+input tok\s+output tok\s+cost\s+p50\s+p95/);
  assert.match(text, /gpt-4o-mini\s+3\s+0%\s+2,800\s+550\s+\$0\.000870\s+700 ms\s+900 ms/);
  assert.match(text, /total\s+6\s+17%\s+4,810\s+1,055\s+\$0\.001960/);
});

test('stats --rollup reads llm_usage_hourly (every call observed)', () => {
  const r = json(['stats', '--rollup', '--by', 'user']);
  assert.equal(r.source, 'llm_usage_hourly');
  assert.deepEqual(
    r.rows.map((x) => [x.key, x.calls, x.errors, x.input_tokens]),
    [
      ['alice', 4, 1, 2800],
      ['bob', 1, 0, 2000],
      [null, 1, 0, 10],
    ],
  );
  assert.equal(r.rows[0].max_ms, 2500);
});

test('latency: p50/p90/p95/p99 by model; --ttft for streams', () => {
  const r = json(['latency']);
  const mini = r.rows.find((x) => x.model === 'gpt-4o-mini');
  assert.deepEqual([mini.calls, mini.p50_ms, mini.p90_ms, mini.p95_ms, mini.p99_ms, mini.max_ms], [3, 700, 900, 900, 900, 900]);
  const t = json(['latency', '--ttft']);
  assert.equal(t.metric, 'ttft_ms');
  assert.deepEqual(
    t.rows.map((x) => [x.model, x.p50_ms]),
    [['deepseek-chat', 150]],
  );
  assert.match(human(['latency']), /gpt-4o-mini\s+3\s+700 ms\s+900 ms\s+900 ms\s+900 ms\s+900 ms/);
});

test('runs: runs with the totals of the calls beneath them', () => {
  const r = json(['runs']).runs;
  assert.deepEqual(
    r.map((x) => [x.kind, x.name, x.calls, x.input_tokens, x.output_tokens]),
    [
      ['tool', 'search', 1, 300, 50],
      ['agent', 'planner', 3, 2800, 550],
    ],
  );
  assert.deepEqual(
    json(['runs', '--kind', 'agent']).runs.map((x) => x.name),
    ['planner'],
  );
  assert.match(human(['runs']), /agent\s+planner\s+3\.00 s\s+ok\s+3\s+0\s+2,800\s+550\s+\$0\.000870\s+gpt-4o-mini-2024-07-18/);
});

test('sql: read-only queries, JSON rows', () => {
  const r = json(['sql', 'SELECT request_model AS m, count(*) AS n FROM llm_calls GROUP BY 1 ORDER BY 2 DESC, 1']);
  assert.deepEqual(r.columns, ['m', 'n']);
  assert.deepEqual(r.rows[0], { m: 'gpt-4o-mini', n: 3 });
  assert.match(human(['sql', 'SELECT count(*) AS n FROM llm_messages']), /^n\n4\n\(1 row\)/);
  assert.deepEqual(json(['sql', 'PRAGMA user_version']).rows, [{ user_version: SCHEMA_VERSION }]);
});

test('export: CSV and JSON Lines of calls, messages and runs', () => {
  const j = cli(['export', '--format', 'jsonl', '--db', db]);
  assert.equal(j.code, 0, j.stderr);
  const rows = j.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rows.map((x) => x.id),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(rows[0].finish_reasons, ['stop']);
  assert.equal(rows[0].cost, 0.00039);
  const c = cli(['export', '--format', 'csv', '--session', 's1', '--db', db]);
  const lines = c.stdout.trim().split('\n');
  assert.equal(lines.length, 5);
  assert.ok(lines[0].startsWith('id,span_id,trace_id,parent_span_id,parent_call_id,service_name,session_id'));
  assert.ok(lines[1].startsWith(`1,c000000000000001,${traceId(1)},a000000000000001,a000000000000001,svc,s1,alice,planner`));
  assert.match(lines[1], /,"\[""stop""\]",/, 'JSON columns are CSV-quoted text');
  const m = cli(['export', '--format', 'jsonl', '--table', 'messages', '--db', db])
    .stdout.trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    m.map((x) => `${x.call_id}:${x.direction}:${x.position}`),
    ['1:input:0', '1:input:1', '1:output:0', '3:output:0'],
  );
  const runs = cli(['export', '--format', 'csv', '--table', 'runs', '--db', db]).stdout.trim().split('\n');
  assert.equal(runs.length, 3);
  const empty = cli(['export', '--format', 'csv', '--since', '1m', '--db', db]);
  assert.equal(empty.stdout.split('\n').filter(Boolean).length, 1, 'header only');
});

test('prices list: the table, and which row prices a model', () => {
  const all = json(['prices', 'list']);
  assert.equal(all.source.package, '@pydantic/genai-prices');
  assert.ok(all.prices.length > 300);
  const hit = json(['prices', 'list', '--model', 'gpt-4o-mini-2024-07-18']).prices;
  assert.deepEqual(
    hit.map((p) => [p.model_pattern, p.input_per_mtok, p.output_per_mtok]),
    [['gpt-4o-mini', 0.15, 0.6]],
  );
  const r = cli(['prices', 'list', '--model', 'no-such-model', '--db', db]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no price for no-such-model/);
  assert.match(human(['prices', 'list', '--provider', 'deepseek']), /deepseek\s+deepseek-chat\*/);
});

test('help and version', () => {
  const h = cli(['--help']);
  assert.equal(h.code, 0);
  for (const verb of [
    'calls',
    'show',
    'trace',
    'session',
    'stats',
    'latency',
    'runs',
    'export',
    'tail',
    'sql',
    'prune',
    'prices',
    'ui',
    'demo',
  ]) {
    assert.match(h.stdout, new RegExp(`\\n  ${verb}\\b`), `help lists ${verb}`);
  }
  assert.match(cli(['--version']).stdout, /^\d+\.\d+\.\d+/);
  assert.match(cli(['stats', '--help']).stdout, /--by <dimension>/);
});
