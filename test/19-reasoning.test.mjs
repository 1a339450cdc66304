// Process-level: what reasoning models say while reasoning is kept, streamed or not, on openai 4–7 —
// chat `reasoning_content` (DeepSeek) and `reasoning` (OpenRouter, vLLM), Responses reasoning
// summaries — as `reasoning` parts of the span's gen_ai.output.messages (semconv ReasoningPart) and
// in llm_messages.reasoning, redacted and truncated like any other text, with the reasoning token
// counts; a stream cut short while reasoning keeps what arrived. Fixtures: test/fixtures/openai-synthetic/*reasoning-{content,field,summary}.json.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { installMatrix, OPENAI_MAJORS } from './helpers/matrix.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { pool, runApp } from './helpers/run-app.mjs';

const EMAIL = 'ana.lima@example.org';
const ANSWER = 'The Southern Ocean.';
// In the order the app makes them: [name, api, stream, reasoning tokens].
const CALLS = [
  ['deepseek', 'chat.completions', 0, 56],
  ['deepseekStream', 'chat.completions', 1, 56],
  ['openrouter', 'chat.completions', 0, 47],
  ['openrouterStream', 'chat.completions', 1, 47],
  ['responses', 'responses', 0, 320],
  ['responsesStream', 'responses', 1, 320],
  // Streams cut short while reasoning: no usage arrived.
  ['deepseekCut', 'chat.completions', 1, null],
  ['responsesCut', 'responses', 1, null],
];
const MAX_CHARS = 60;
const RUNS = [
  ...OPENAI_MAJORS.map((major) => ({ major, label: `openai ${major}` })),
  { major: 6, label: `openai 6, LLM_OTEL_MAX_CONTENT_CHARS=${MAX_CHARS}`, maxChars: MAX_CHARS },
];

let server;
const dir = mkdtempSync(join(tmpdir(), 'llm-otel-reasoning-'));
const results = new Map();

before(async () => {
  const paths = installMatrix(['reasoning-app.mjs']);
  server = await startOpenAIServer();
  await pool(
    RUNS.map((r, i) => async () => {
      const rx = await startOtlpReceiver();
      const db = join(dir, `${i}.db`);
      try {
        const run = await runApp(paths[r.major]['reasoning-app.mjs'], {
          preload: 'import',
          env: {
            TEST_OPENAI_URL: server.url,
            OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            LLM_OTEL_DB: db,
            LLM_OTEL_CAPTURE_CONTENT: 'all',
            LLM_OTEL_MAX_CONTENT_CHARS: r.maxChars,
          },
        });
        await rx.settle();
        assert.equal(run.code, 0, `${r.label}: ${run.stderr}`);
        const conn = new Database(db, { readonly: true });
        const calls = conn.prepare('SELECT id, span_id, api, stream, reasoning_tokens FROM llm_calls ORDER BY started_at').all();
        const messages = conn
          .prepare("SELECT call_id, content, reasoning FROM llm_messages WHERE direction = 'output' ORDER BY call_id")
          .all();
        conn.close();
        results.set(r.label, { run, calls, messages, spans: [...rx.spans] });
      } finally {
        await rx.close();
      }
    }),
    2,
  );
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What the app received → what is stored: the email masked, then cut with the length marker. */
function stored(text, maxChars) {
  const masked = text.replaceAll(EMAIL, '[EMAIL]');
  return maxChars !== undefined && masked.length > maxChars ? `${masked.slice(0, maxChars)}…[truncated: ${text.length} chars]` : masked;
}

for (const r of RUNS) {
  test(`${r.label}: reasoning parts on the span and in the call log, streamed and not`, () => {
    const { run, calls, messages, spans } = results.get(r.label);
    const received = JSON.parse(run.stdout.trim().split('\n').pop());
    assert.deepEqual(
      calls.map((c) => [c.api, c.stream, c.reasoning_tokens]),
      CALLS.map(([, api, stream, tokens]) => [api, stream, tokens]),
    );
    for (const [i, [name]] of CALLS.entries()) {
      const [reasoning, answer] = received[name];
      const cut = name.endsWith('Cut');
      assert.equal(answer, cut ? '' : ANSWER, `${name}: the app got its answer`);
      const texts = (Array.isArray(reasoning) ? reasoning : [reasoning]).map((t) => stored(t, r.maxChars));
      assert.ok(texts.length > 0 && texts.every((t) => t.length > 0));

      const span = spans.find((s) => s.spanId === calls[i].span_id);
      assert.ok(span, `${name}: its span`);
      assert.equal(span.attributes['gen_ai.usage.reasoning.output_tokens'], CALLS[i][3] ?? undefined);
      const [out] = JSON.parse(span.attributes['gen_ai.output.messages']);
      const answerParts = cut ? [] : [{ type: 'text', content: ANSWER }];
      assert.deepEqual(
        out.parts,
        [...texts.map((content) => ({ type: 'reasoning', content })), ...answerParts],
        `${name}: gen_ai.output.messages`,
      );

      const row = messages.filter((m) => m.call_id === calls[i].id);
      const content = cut ? null : ANSWER;
      assert.deepEqual(row, [{ call_id: calls[i].id, content, reasoning: texts.join('\n') }], `${name}: llm_messages`);
    }
    const everything = JSON.stringify(spans.map((s) => s.attributes)) + JSON.stringify(messages);
    assert.ok(!everything.includes(EMAIL), 'the email in the reasoning is masked everywhere');
  });
}
