// A large call log for the benchmarks, written through the exporter's own write path
// (CallLogWriter.writeBatch: rows, rollups and ledgers exactly as a real run stores them).
// 5 calls per trace under an agent run, 20 traces per session, 500 users, 8 agents, 6 models
// (one priced in CNY), 2 % failed, spread over 60 days. `messages: true` adds a system, a user
// and an assistant message per call (with the previous turn re-sent, as chat apps do).

import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { exporterApi } from '../../test/4x-helpers/calllog.mjs';

export const MODELS = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o'],
  ['openai', 'gpt-5-mini'],
  ['openai', 'o4-mini'],
  ['deepseek', 'deepseek-chat'],
  ['qwen', 'qwen-plus'],
];
export const CALLS_PER_TRACE = 5;
export const DAYS = 60;
const MSG = {
  direction: 'input',
  position: 0,
  role: 'user',
  content: '',
  content_chars: 0,
  truncated: 0,
  tool_calls: null,
  tool_call_id: null,
  name: null,
  token_estimate: null,
};
const SYSTEM = Array.from({ length: 8 }, (_, i) => `You are agent-${i}, a helpful assistant for a travel company. Answer briefly.`);
const QUESTION = 'Which flights leave Paris for Lisbon tomorrow morning, and which of them still have seats in economy?';
const ANSWER =
  'Three flights leave tomorrow morning: TP433 at 07:05, AF1024 at 09:40 and U24511 at 11:15. Economy seats remain on TP433 and U24511.';

export const hex = (n, len) => n.toString(16).padStart(len, '0');

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

/** Writes `N` calls ending at `tEnd` (ms) into `path`. */
export async function generate(path, N, { tEnd = Date.UTC(2026, 10, 22), messages = false } = {}) {
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
    const start = tEnd - Math.floor(((traces - t) / traces) * DAYS * 86_400_000);
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
        messages: messages
          ? [
              { ...MSG, role: 'system', content: SYSTEM[t % 8], content_chars: SYSTEM[t % 8].length },
              { ...MSG, position: 1, role: 'user', content: `Question ${written}: ${QUESTION}`, content_chars: QUESTION.length + 20 },
              ...(failed ? [] : [{ ...MSG, direction: 'output', role: 'assistant', content: ANSWER, content_chars: ANSWER.length }]),
            ]
          : [],
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
          currency: failed ? null : provider === 'qwen' ? 'CNY' : 'USD',
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
