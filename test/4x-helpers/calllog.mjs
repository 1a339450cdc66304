// Builds call logs for the CLI tests and the 1M benchmark through the exporter's own write path
// (CallLogWriter.writeBatch): the rows are exactly what a real run stores, rollups included.
// Importing this file has no side effects.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const DIST = join(ROOT, 'dist', 'esm');
export const BIN = join(ROOT, 'bin', 'llm-otel.js');

export async function exporterApi() {
  return import(join(DIST, 'exporter', 'index.js'));
}

/** A fresh scratch directory under test/.tmp, removed by the returned cleanup. */
export function scratch(name) {
  const dir = join(ROOT, 'test', '.tmp', `${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const hex = (n, len) => n.toString(16).padStart(len, '0');
export const traceId = (n) => hex(n + 1, 32);
export const spanId = (n) => hex(n + 1, 16);

/** A complete llm_calls row (CallRow) with defaults; `over` replaces fields. */
export function callRow(over = {}) {
  const started = over.started_at ?? '2026-11-20T10:00:00.000Z';
  const duration = over.duration_ms ?? 100;
  return {
    span_id: spanId(1),
    trace_id: traceId(1),
    parent_span_id: null,
    parent_call_id: null,
    service_name: 'svc',
    session_id: null,
    user_id: null,
    agent_name: null,
    conversation_id: null,
    tags: null,
    metadata: null,
    operation: 'chat',
    api: 'chat.completions',
    provider: 'openai',
    server_address: 'api.openai.com',
    server_port: 443,
    request_model: 'gpt-4o-mini',
    response_model: null,
    response_id: null,
    request_id: null,
    temperature: null,
    top_p: null,
    max_tokens: null,
    stream: 0,
    finish_reasons: '["stop"]',
    input_tokens: 100,
    output_tokens: 20,
    total_tokens: null,
    cached_input_tokens: null,
    reasoning_tokens: null,
    usage_source: 'provider',
    cost: null,
    currency: null,
    price_id: null,
    started_at: started,
    ended_at: new Date(Date.parse(started) + duration).toISOString(),
    duration_ms: duration,
    ttft_ms: null,
    status: 'ok',
    error_type: null,
    error_message: null,
    http_status: null,
    retry_count: 0,
    attributes: null,
    ...over,
    ...(over.total_tokens === undefined ? { total_tokens: (over.input_tokens ?? 100) + (over.output_tokens ?? 20) } : {}),
  };
}

export function runRow(over = {}) {
  const started = over.started_at ?? '2026-11-20T10:00:00.000Z';
  const duration = over.duration_ms ?? 500;
  return {
    span_id: spanId(1000),
    trace_id: traceId(1),
    parent_span_id: null,
    parent_call_id: null,
    kind: 'agent',
    name: 'agent',
    session_id: null,
    user_id: null,
    agent_name: null,
    tool_call_id: null,
    started_at: started,
    ended_at: new Date(Date.parse(started) + duration).toISOString(),
    duration_ms: duration,
    status: 'ok',
    error_message: null,
    attributes: null,
    ...over,
  };
}

export function message(over = {}) {
  return {
    direction: 'input',
    position: 0,
    role: 'user',
    content: 'Hello',
    content_chars: 5,
    truncated: 0,
    tool_calls: null,
    tool_call_id: null,
    name: null,
    token_estimate: null,
    ...over,
  };
}

/** Writes items through a CallLogWriter (with an optional price hook). */
export async function writeItems(path, items, { price, estimateTokens } = {}) {
  const { CallLogWriter } = await exporterApi();
  const w = new CallLogWriter({ path, busyTimeoutMs: 5000, ...(price ? { price } : {}), ...(estimateTokens ? { estimateTokens } : {}) });
  try {
    for (let i = 0; i < items.length; i += 1000) {
      if (!w.writeBatch(items.slice(i, i + 1000), { force: true })) throw new Error(`writeBatch failed: ${w.failing}`);
    }
  } finally {
    w.close();
  }
}

/**
 * The standard small call log used by the CLI tests (all times fixed, in UTC):
 * trace 1 (session s1, user alice): agent "planner" → 2 gpt-4o-mini calls + tool "search" → 1 call
 * trace 2 (session s1, user alice): one failing gpt-4o call (RateLimitError, 2 retries)
 * trace 3 (session s2, user bob): one streamed deepseek-chat call, cost from a price, 2 days earlier
 * trace 4: an unknown-model call (cost NULL)
 */
export function standardItems() {
  const items = [];
  const agent = runRow({
    span_id: 'a000000000000001',
    trace_id: traceId(1),
    kind: 'agent',
    name: 'planner',
    session_id: 's1',
    user_id: 'alice',
    agent_name: 'planner',
    started_at: '2026-11-20T10:00:00.000Z',
    duration_ms: 3000,
  });
  const tool = runRow({
    span_id: 'b000000000000001',
    trace_id: traceId(1),
    parent_span_id: 'a000000000000001',
    parent_call_id: 'a000000000000001',
    kind: 'tool',
    name: 'search',
    session_id: 's1',
    user_id: 'alice',
    agent_name: 'planner',
    tool_call_id: 'call_1',
    started_at: '2026-11-20T10:00:01.000Z',
    duration_ms: 800,
  });
  items.push({ kind: 'run', run: agent }, { kind: 'run', run: tool });
  const base = {
    trace_id: traceId(1),
    session_id: 's1',
    user_id: 'alice',
    agent_name: 'planner',
    request_model: 'gpt-4o-mini',
    response_model: 'gpt-4o-mini-2024-07-18',
  };
  items.push({
    kind: 'call',
    call: callRow({
      ...base,
      span_id: 'c000000000000001',
      parent_span_id: 'a000000000000001',
      parent_call_id: 'a000000000000001',
      started_at: '2026-11-20T10:00:00.100Z',
      duration_ms: 900,
      input_tokens: 1000,
      output_tokens: 200,
      cached_input_tokens: 400,
      cost: 0.00039,
      currency: 'USD',
    }),
    messages: [
      message({ role: 'system', content: 'You plan.', content_chars: 9 }),
      message({ position: 1, role: 'user', content: 'Find flights to Paris', content_chars: 21 }),
      message({
        direction: 'output',
        position: 0,
        role: 'assistant',
        content: null,
        content_chars: null,
        tool_calls: '[{"id":"call_1","name":"search","arguments":"{\\"q\\":\\"Paris\\"}"}]',
      }),
    ],
  });
  items.push({
    kind: 'call',
    call: callRow({
      ...base,
      span_id: 'c000000000000002',
      parent_span_id: 'b000000000000001',
      parent_call_id: 'b000000000000001',
      started_at: '2026-11-20T10:00:01.200Z',
      duration_ms: 400,
      input_tokens: 300,
      output_tokens: 50,
      cost: 0.000075,
      currency: 'USD',
    }),
    messages: [],
  });
  items.push({
    kind: 'call',
    call: callRow({
      ...base,
      span_id: 'c000000000000003',
      parent_span_id: 'a000000000000001',
      parent_call_id: 'a000000000000001',
      started_at: '2026-11-20T10:00:02.000Z',
      duration_ms: 700,
      input_tokens: 1500,
      output_tokens: 300,
      reasoning_tokens: 100,
      cost: 0.000405,
      currency: 'USD',
      finish_reasons: '["stop"]',
    }),
    messages: [
      message({ direction: 'output', role: 'assistant', content: 'Here are 3 flights.', content_chars: 19, reasoning: 'Cheapest first.' }),
    ],
  });
  items.push({
    kind: 'call',
    call: callRow({
      trace_id: traceId(2),
      span_id: 'c000000000000004',
      session_id: 's1',
      user_id: 'alice',
      request_model: 'gpt-4o',
      started_at: '2026-11-20T11:30:00.000Z',
      duration_ms: 2500,
      input_tokens: null,
      output_tokens: null,
      total_tokens: null,
      usage_source: 'none',
      status: 'error',
      error_type: 'RateLimitError',
      error_message: '429 Rate limit reached',
      http_status: 429,
      retry_count: 2,
    }),
    messages: [],
  });
  items.push({
    kind: 'call',
    call: callRow({
      trace_id: traceId(3),
      span_id: 'c000000000000005',
      session_id: 's2',
      user_id: 'bob',
      provider: 'deepseek',
      server_address: 'api.deepseek.com',
      request_model: 'deepseek-chat',
      started_at: '2026-11-18T08:00:00.000Z',
      duration_ms: 1200,
      ttft_ms: 150,
      stream: 1,
      input_tokens: 2000,
      output_tokens: 500,
      usage_source: 'estimated',
      cost: 0.00109,
      currency: 'USD',
    }),
    messages: [],
  });
  items.push({
    kind: 'call',
    call: callRow({
      trace_id: traceId(4),
      span_id: 'c000000000000006',
      request_model: 'my-local-model',
      provider: 'openai',
      server_address: 'localhost',
      started_at: '2026-11-20T12:00:00.000Z',
      duration_ms: 50,
      input_tokens: 10,
      output_tokens: 5,
    }),
    messages: [],
  });
  return items;
}

/** Runs the CLI (the built bin) synchronously. */
export function cli(args, { env = {}, input, cwd } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LLM_OTEL_DB: '', NO_COLOR: '1', ...env },
    input,
    cwd,
    maxBuffer: 256 * 1024 * 1024,
    // A hang fails the test (status null) instead of stalling the run.
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
