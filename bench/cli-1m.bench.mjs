// Benchmark: the CLI on a 1,000,000-call log (issue 5). The DB is generated through the exporter's
// own write path (CallLogWriter.writeBatch, rollups included), then each query is run as a real
// `llm-otel` process and timed (wall time of the whole process, best of 3).
//   node scripts/build.mjs && node bench/cli-1m.bench.mjs [--calls 1000000] [--keep path]
// Target: each of `stats --by model`, `stats --by day`, `calls --session X`, `trace <id>` < 1 s.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN, exporterApi } from '../test/4x-helpers/calllog.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const N = Number(arg('--calls', '1000000'));
const keep = arg('--keep', null);
const path = keep ?? join(tmpdir(), `llm-otel-bench-${process.pid}.db`);

const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-5-mini'],
  ['openai', 'o4-mini'],
  ['deepseek', 'deepseek-chat'],
  ['qwen', 'qwen-plus'],
];
const CALLS_PER_TRACE = 5;
const DAYS = 60;
const T_END = Date.UTC(2026, 10, 22);
const hex = (n, len) => n.toString(16).padStart(len, '0');

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function generate() {
  const { CallLogWriter } = await exporterApi();
  const w = new CallLogWriter({ path, busyTimeoutMs: 10_000 });
  const rand = rng(42);
  const t0 = performance.now();
  let batch = [];
  const traces = Math.ceil(N / CALLS_PER_TRACE);
  let written = 0;
  for (let t = 0; t < traces && written < N; t++) {
    const traceId = hex(t + 1, 32);
    const runId = 'f' + hex(t + 1, 15);
    const start = T_END - Math.floor(((traces - t) / traces) * DAYS * 86_400_000);
    const session = `sess-${Math.floor(t / 20)}`; // 20 traces (100 calls) per session
    const user = `user-${Math.floor(rand() * 500)}`;
    const agent = `agent-${t % 8}`;
    const [provider, model] = MODELS[Math.floor(rand() * MODELS.length)];
    batch.push({
      kind: 'run',
      run: {
        span_id: runId,
        trace_id: traceId,
        parent_span_id: null,
        parent_call_id: null,
        kind: 'agent',
        name: agent,
        session_id: session,
        user_id: user,
        agent_name: agent,
        tool_call_id: null,
        started_at: new Date(start).toISOString(),
        ended_at: new Date(start + 5000).toISOString(),
        duration_ms: 5000,
        status: 'ok',
        error_message: null,
        attributes: null,
      },
    });
    for (let c = 0; c < CALLS_PER_TRACE && written < N; c++, written++) {
      const s = start + c * 900;
      const dur = Math.round(200 + rand() * rand() * 4000);
      const failed = rand() < 0.02;
      const input = Math.floor(200 + rand() * 3000);
      const output = Math.floor(20 + rand() * 600);
      batch.push({
        kind: 'call',
        messages: [],
        call: {
          span_id: hex(written + 1, 16),
          trace_id: traceId,
          parent_span_id: runId,
          parent_call_id: runId,
          service_name: 'bench',
          session_id: session,
          user_id: user,
          agent_name: agent,
          conversation_id: null,
          tags: null,
          metadata: null,
          operation: 'chat',
          api: 'chat.completions',
          provider,
          server_address: 'api.example.com',
          server_port: 443,
          request_model: model,
          response_model: model,
          response_id: null,
          request_id: null,
          temperature: null,
          top_p: null,
          max_tokens: null,
          stream: 0,
          finish_reasons: failed ? null : '["stop"]',
          input_tokens: failed ? null : input,
          output_tokens: failed ? null : output,
          total_tokens: failed ? null : input + output,
          cached_input_tokens: null,
          reasoning_tokens: null,
          usage_source: failed ? 'none' : 'provider',
          cost: failed ? null : (input * 0.15 + output * 0.6) / 1e6,
          currency: failed ? null : 'USD',
          price_id: null,
          started_at: new Date(s).toISOString(),
          ended_at: new Date(s + dur).toISOString(),
          duration_ms: dur,
          ttft_ms: null,
          status: failed ? 'error' : 'ok',
          error_type: failed ? 'RateLimitError' : null,
          error_message: failed ? '429' : null,
          http_status: failed ? 429 : null,
          retry_count: 0,
          attributes: null,
        },
      });
    }
    if (batch.length >= 5000) {
      if (!w.writeBatch(batch, { force: true })) throw new Error(`write failed: ${w.failing}`);
      batch = [];
      if (written % 100_000 < CALLS_PER_TRACE) process.stderr.write(`  ${written} calls…\r`);
    }
  }
  if (batch.length && !w.writeBatch(batch, { force: true })) throw new Error(`write failed: ${w.failing}`);
  w.close();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `generated ${written} calls in ${s.toFixed(1)} s (${Math.round(written / s)} calls/s through CallLogWriter.writeBatch); ${(statSync(path).size / 1e6).toFixed(0)} MB`,
  );
}

function time(args) {
  let best = Infinity;
  let out = null;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [BIN, ...args, '--db', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`llm-otel ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    out = r.stdout;
    best = Math.min(best, ms);
  }
  return { ms: best, out };
}

if (!existsSync(path)) await generate();
else console.log(`using existing ${path}`);
const base = time(['--version']);
console.log(`process start-up (llm-otel --version): ${base.ms.toFixed(0)} ms`);
const session = `sess-${Math.floor(N / CALLS_PER_TRACE / 2 / 20)}`;
const trace = hex(Math.floor(N / CALLS_PER_TRACE / 2) + 1, 32);
const cases = [
  ['stats', '--by', 'model'],
  ['stats', '--by', 'day'],
  ['calls', '--session', session],
  ['trace', trace],
  ['latency'],
  ['stats', '--by', 'user'],
];
let ok = true;
for (const args of cases) {
  const { ms, out } = time(args);
  const lines = out.trim().split('\n').length;
  const target = ['stats --by model', 'stats --by day', `calls --session ${session}`, `trace ${trace}`].includes(args.join(' '));
  if (target && ms >= 1000) ok = false;
  console.log(
    `llm-otel ${args.join(' ').padEnd(32)} ${ms.toFixed(0).padStart(6)} ms  (${lines} lines)${target ? (ms < 1000 ? '  < 1 s ✓' : '  ≥ 1 s ✗') : ''}`,
  );
}
// export: the whole log as JSON Lines and as CSV to /dev/null; peak memory must stay flat.
for (const format of ['jsonl', 'csv']) {
  const wrapper = `process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));
    process.argv.splice(1, 0, 'llm-otel'); require(${JSON.stringify(BIN)});`;
  const t = performance.now();
  const r = spawnSync(process.execPath, ['-e', wrapper, 'export', '--format', format, '--db', path], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? 0) / 1024;
  console.log(
    `llm-otel export --format ${format.padEnd(5)} (all ${N} calls)  ${(ms / 1000).toFixed(1).padStart(5)} s, peak RSS ${rss.toFixed(0)} MB`,
  );
}
if (!keep) for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
console.log(ok ? 'all targets met' : 'some targets missed');
