// Self-test of the test infrastructure (test/helpers/*) with the plain, uninstrumented openai SDK:
// if these fail, the instrumentation tests that build on the harness mean nothing.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import OpenAIv4 from 'openai-v4';
import OpenAI from 'openai-v6';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { ensureOpenAI, MATRIX_ROOT } from './helpers/matrix.mjs';
import { closedPort, normalizePath, parseScenario, startOpenAIServer } from './helpers/openai-server.mjs';
import { decodeTraceRequestProtobuf, startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { runApp } from './helpers/run-app.mjs';
import { assertAttributes, is, resolveExpected, UNREPORTED_USAGE } from './helpers/span-assert.mjs';

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];

describe('openai wire server', () => {
  let server;
  let client;
  before(async () => {
    server = await startOpenAIServer();
    client = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-harness-key', maxRetries: 2 });
  });
  after(() => server.close());

  test('matches a recording by method, path and body regardless of key order', async () => {
    server.reset();
    const r = await client.chat.completions.create({ messages: BOUVET, model: 'gpt-4o-mini' });
    assert.equal(r.id, 'chatcmpl-Bs24CNH3ITxv65qJpGjVXijYv6qX2');
    assert.equal(r.usage.prompt_tokens, 22);
    const [req] = server.requests;
    assert.equal(req.fixture, 'chat-completions-adds-genai-conventions');
    assert.equal(req.headers.authorization, 'Bearer sk-harness-key');
    assert.equal(req.requestId, 'req_5b9a48ab38990a73e0f90e6d6b7b6efd');
  });

  test('serves decompressed JSON with the recorded headers minus hop-by-hop ones', async () => {
    const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }).withResponse();
    assert.equal(response.headers.get('content-encoding'), null);
    assert.equal(response.headers.get('x-request-id'), 'req_5b9a48ab38990a73e0f90e6d6b7b6efd');
    assert.equal(response.headers.get('openai-processing-ms'), '354');
    assert.match(response.headers.get('content-type'), /application\/json/);
  });

  test('adds a deterministic x-request-id where the recording has none', async () => {
    const a = await client.responses.create({ model: 'gpt-4o-mini', input: BOUVET[0].content }).withResponse();
    const b = await client.responses.create({ model: 'gpt-4o-mini', input: BOUVET[0].content }).withResponse();
    assert.match(a.request_id, /^req_[0-9a-f]{32}$/);
    assert.equal(a.request_id, b.request_id);
  });

  test('x-fixture header and next() queue choose the fixture', async () => {
    server.reset();
    const r1 = await client.chat.completions.create(
      { model: 'anything', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-fixture': 'chat-completions-records-multiple-choices' } },
    );
    assert.equal(r1.choices.length, 2);
    server.next('openai-chat-completions-adds-genai-conventions-with-system-message.json');
    const r2 = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r2.choices[0].message.content, 'Tomato.');
    const r3 = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.equal(r3.status, 404, 'queue consumed: no body match → 404');
    assert.match(r3.message, /no fixture matches POST \/v1\/chat\/completions/);
    assert.match(server.requests.at(-1).requestId, /^req_[0-9a-f]{32}$/, 'even a 404 carries an x-request-id');
  });

  test('multi-interaction fixtures pick the turn with the same message count', async () => {
    const h = { headers: { 'x-fixture': 'chat-completions-records-tool-calls' } };
    const first = await client.chat.completions.create(
      {
        model: 'm',
        messages: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'u' },
        ],
      },
      h,
    );
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    const msgs = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: 'a' },
      { role: 'tool', tool_call_id: 'x', content: '1' },
      { role: 'tool', tool_call_id: 'y', content: '2' },
    ];
    const second = await client.chat.completions.create({ model: 'm', messages: msgs }, h);
    assert.equal(second.choices[0].finish_reason, 'stop');
  });

  test('SSE streams arrive event by event (a stalled stream still delivered its first events)', async () => {
    server.reset();
    const s = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: BOUVET, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-scenario': 'hang-after:2' } },
    );
    const got = [];
    for await (const c of s) {
      got.push(c.choices[0]?.delta?.content ?? null);
      if (got.length === 2) s.controller.abort();
    }
    assert.deepEqual(got, ['', 'South']);
    assert.equal(server.requests[0].eventsSent, 2);
  });

  test('a complete stream replays every chunk including the usage chunk', async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: BOUVET,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage = null;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      usage = c.usage ?? usage;
    }
    assert.equal(text, 'South Atlantic Ocean.');
    assert.equal(usage.total_tokens, 26);
  });

  test('fail:429:2 answers 429 twice, then the recording; the SDK sends x-stainless-retry-count', async () => {
    server.reset();
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, { headers: { 'x-scenario': 'fail:429:2' } });
    assert.equal(r.id, 'chatcmpl-Bs24CNH3ITxv65qJpGjVXijYv6qX2');
    assert.deepEqual(
      server.requests.map((q) => [q.status, q.headers['x-stainless-retry-count']]),
      [
        [429, '0'],
        [429, '1'],
        [200, '2'],
      ],
    );
    assert.ok(
      server.requests.every((q) => q.requestId),
      'every response has an x-request-id',
    );
  });

  test('fail:500:1 then success; error:400 is an OpenAI error body and is not retried', async () => {
    server.reset();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, { headers: { 'x-scenario': 'fail:500:1' } });
    assert.deepEqual(
      server.requests.map((q) => q.status),
      [500, 200],
    );
    server.reset();
    const e = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: BOUVET }, { headers: { 'x-scenario': 'error:400' } })
      .catch((x) => x);
    assert.equal(e.constructor.name, 'BadRequestError');
    assert.equal(e.status, 400);
    assert.equal(e.error.code, 'invalid_value');
    assert.match(e.requestID, /^req_/);
    assert.equal(server.requests.length, 1);
  });

  test('delay longer than the client timeout → APIConnectionTimeoutError', async () => {
    const e = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: BOUVET }, { timeout: 100, maxRetries: 0, headers: { 'x-scenario': 'delay:3000' } })
      .catch((x) => x);
    assert.equal(e.constructor.name, 'APIConnectionTimeoutError');
  });

  test('drop-after:3 destroys the socket mid-stream', async () => {
    const s = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: BOUVET, stream: true },
      { headers: { 'x-scenario': 'drop-after:3' } },
    );
    let n = 0;
    const e = await (async () => {
      for await (const c of s) {
        void c;
        n += 1;
      }
    })().catch((x) => x);
    assert.ok(e instanceof Error, 'iteration failed');
    assert.equal(n, 3);
  });

  test('closedPort() refuses connections', async () => {
    const c = new OpenAI({ baseURL: `http://127.0.0.1:${await closedPort()}/v1`, apiKey: 'k', maxRetries: 0 });
    const e = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }).catch((x) => x);
    assert.equal(e.constructor.name, 'APIConnectionError');
  });

  test('openai 4 (node-fetch transport) works against it too, Azure paths are normalized', async () => {
    server.reset();
    const c4 = new OpenAIv4({ baseURL: server.baseURL, apiKey: 'k' });
    const r = await c4.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['One fish', 'two fish', 'red fish', 'blue fish'],
      encoding_format: 'float',
    });
    assert.equal(r.data.length, 4);
    assert.equal(normalizePath('/openai/deployments/dep/chat/completions?api-version=1'), '/v1/chat/completions');
    assert.equal(normalizePath('/chat/completions'), '/v1/chat/completions');
  });

  test('scenario directives are validated', () => {
    assert.deepEqual(parseScenario('fail:429:2,event-delay:5'), { fail: { status: 429, times: 2 }, eventDelayMs: 5 });
    assert.throws(() => parseScenario('explode'), /unknown scenario directive/);
  });

  test('runs standalone and prints its base URL', async () => {
    // Without NODE_TEST_CONTEXT: inside the test runner the file deliberately does not serve.
    const { NODE_TEST_CONTEXT, ...env } = process.env;
    void NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [join(import.meta.dirname, 'helpers', 'openai-server.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.trim());
        });
        child.on('exit', () => reject(new Error('server exited')));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const r = await new OpenAI({ baseURL: url, apiKey: 'k' }).chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET });
      assert.equal(r.choices[0].message.content, 'Atlantic Ocean.');
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('OTLP receiver', () => {
  let rx;
  before(async () => {
    rx = await startOtlpReceiver();
  });
  after(() => rx.close());

  async function exportOne(Exporter, name, extra = {}) {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': name }),
      spanProcessors: [new SimpleSpanProcessor(new Exporter({ url: `${rx.url}/v1/traces`, ...extra }))],
    });
    const span = provider.getTracer('llm-otel', '9.9.9').startSpan('chat m', {
      kind: 2,
      attributes: { s: 'x', i: 22, big: 2 ** 40, neg: -5, d: 0.25, b: true, arr: ['stop', ''], ints: [1, 2], empty: [] },
    });
    span.setStatus({ code: 2, message: 'boom' });
    span.addEvent('ev', { k: 1 });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
  }

  test('decodes OTLP/JSON and OTLP/protobuf (also gzip) into the same span objects', async () => {
    rx.reset();
    await exportOne(JsonExporter, 'json');
    await exportOne(ProtoExporter, 'proto');
    await exportOne(ProtoExporter, 'proto-gzip', { compression: 'gzip' });
    const spans = await rx.waitForSpans(3, { timeoutMs: 5000 });
    assert.deepEqual(
      rx.requests.map((r) => [r.contentType, r.encoding, r.path, r.error]),
      [
        ['application/json', '', '/v1/traces', null],
        ['application/x-protobuf', '', '/v1/traces', null],
        ['application/x-protobuf', 'gzip', '/v1/traces', null],
      ],
    );
    for (const s of spans) {
      assert.deepEqual(s.attributes, {
        s: 'x',
        i: 22,
        big: 2 ** 40,
        neg: -5,
        d: 0.25,
        b: true,
        arr: ['stop', ''],
        ints: [1, 2],
        empty: [],
      });
      assert.equal(s.name, 'chat m');
      assert.equal(s.kindName, 'CLIENT');
      assert.deepEqual(s.status, { code: 2, codeName: 'ERROR', message: 'boom' });
      assert.deepEqual(s.scope, { name: 'llm-otel', version: '9.9.9' });
      assert.match(s.traceId, /^[0-9a-f]{32}$/);
      assert.match(s.spanId, /^[0-9a-f]{16}$/);
      assert.equal(s.events[0].name, 'ev');
      assert.ok(s.durationMs >= 0);
    }
    assert.deepEqual(
      spans.map((s) => s.resource['service.name']),
      ['json', 'proto', 'proto-gzip'],
    );
    assert.ok(rx.allBytes().includes(Buffer.from('chat m')));
  });

  test('protobuf decoder rejects truncated input instead of inventing spans', () => {
    assert.throws(() => decodeTraceRequestProtobuf(Buffer.from([0x0a, 0x10, 0x01])), /truncated/);
    assert.deepEqual(decodeTraceRequestProtobuf(Buffer.alloc(0)), { resourceSpans: [] });
    assert.ok(gzipSync); // (gzip bodies are covered above through the real exporter)
  });

  test('waitForSpans rejects with what did arrive after the timeout', async () => {
    rx.reset();
    await assert.rejects(rx.waitForSpans(1, { timeoutMs: 50 }), /0 of 1 spans/);
  });

  test("'hang' mode accepts and never answers; status mode answers that status", async () => {
    const slow = await startOtlpReceiver({ mode: 'hang' });
    try {
      const ac = new AbortController();
      const p = fetch(`${slow.url}/v1/traces`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
        signal: ac.signal,
      });
      await slow.waitForSpans(0);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(slow.requests.length, 1);
      ac.abort();
      await assert.rejects(p);
      slow.setMode(503);
      const r = await fetch(`${slow.url}/v1/traces`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 503);
    } finally {
      await slow.close();
    }
  });
});

describe('app runner and openai matrix', () => {
  test('the matrix copy is a real directory named openai, resolved from the matrix dir', () => {
    const dir = ensureOpenAI(4);
    const copy = join(dir, 'node_modules', 'openai');
    assert.equal(lstatSync(copy).isSymbolicLink(), false);
    const resolved = createRequire(join(dir, 'x.cjs')).resolve('openai');
    assert.ok(realpathSync(resolved).startsWith(realpathSync(join(MATRIX_ROOT, 'v4', 'node_modules', 'openai'))), resolved);
    assert.equal(JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')).version.split('.')[0], '4');
  });

  test('runApp returns code, stdout, stderr; kills on timeout; sends a signal on a marker', async () => {
    const ok = await runApp(join(import.meta.dirname, 'apps', 'openai-app.cjs'), {
      args: ['version'],
      env: { TEST_OPENAI_URL: 'http://127.0.0.1:9' },
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /"scenario":"version"/);
    const bad = await runApp(join(import.meta.dirname, 'apps', 'openai-app.cjs'), { args: ['no-such-scenario'] });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown scenario no-such-scenario/);
    const sig = await runApp(join(import.meta.dirname, 'apps', 'openai-app.cjs'), {
      args: ['version'],
      env: { TEST_WAIT_FOR_SIGNAL: '1' },
      signalWhen: { text: 'READY', signal: 'SIGTERM' },
      timeoutMs: 10_000,
    });
    assert.equal(sig.signal, 'SIGTERM');
    assert.equal(sig.timedOut, false);
    const hung = await runApp(join(import.meta.dirname, 'apps', 'openai-app.cjs'), {
      args: ['version'],
      env: { TEST_WAIT_FOR_SIGNAL: '1' },
      timeoutMs: 300,
    });
    assert.equal(hung.timedOut, true);
    assert.equal(hung.signal, 'SIGKILL');
  });
});

describe('span assertions', () => {
  test('exact maps: missing, extra and differing keys all fail with a readable diff', () => {
    assertAttributes({ a: 1, t: 0.5 }, { a: 1, t: is.seconds() });
    assert.throws(() => assertAttributes({ a: 1, b: 2 }, { a: 1 }), /extra {4}b: 2/);
    assert.throws(() => assertAttributes({ a: 1 }, { a: 1, b: 2 }), /missing {2}b: 2/);
    assert.throws(() => assertAttributes({ a: 1 }, { a: 2 }), /differs {2}a: got 1, want 2/);
    assert.throws(() => assertAttributes({ t: 'x' }, { t: is.seconds() }), /seconds/);
  });

  test('cost keys are checked by type; unreported usage accepts none or estimated only', () => {
    assertAttributes({ a: 1, 'llm_otel.cost': 0.001, 'llm_otel.currency': 'USD' }, { a: 1 });
    assert.throws(() => assertAttributes({ a: 1, 'llm_otel.cost': 'x' }, { a: 1 }), /extra/);
    assertAttributes({ 'llm_otel.usage_source': 'none' }, { [UNREPORTED_USAGE]: true });
    assertAttributes(
      { 'llm_otel.usage_source': 'estimated', 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3 },
      { [UNREPORTED_USAGE]: true },
    );
    assert.throws(
      () => assertAttributes({ 'llm_otel.usage_source': 'none', 'gen_ai.usage.input_tokens': 12 }, { [UNREPORTED_USAGE]: true }),
      /extra/,
    );
    assert.throws(() => assertAttributes({ 'llm_otel.usage_source': 'provider' }, { [UNREPORTED_USAGE]: true }), /differs/);
    assert.deepEqual(resolveExpected({ x: 1 }, { x: is.number() }).expected, { x: 1 });
  });
});
