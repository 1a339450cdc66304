// Issue 10, hostile users and privacy: (1) context values that cannot be serialised (circular,
// 100k-deep, Proxy, throwing getters, BigInt, symbols, odd tags and ids) never lose a call — it is
// recorded with a marker and the app's result is unchanged, with and without the writer thread;
// (2) the client's own API key (a 32-hex key no masker knows) echoed by a provider or proxy is
// masked in the DB, JSONL and OTLP, and never crosses to the writer thread in a record;
// (3) session / user / conversation / tags / metadata are redacted like content, with an opt-out
// (LLM_OTEL_KEEP_CONTEXT); (4) the masker gaps (cards with '.'/'_', full-width digits, 1-415…,
// 86-138…, IDN emails, aws_secret_access_key, PEM private keys) are closed, linearly, without
// new false positives. Against the built output (node scripts/build.mjs first).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { loadConfig } from '../dist/esm/src/config/config.js';
import { createRedactor } from '../dist/esm/src/content/index.js';
import { mergeLlmContext } from '../dist/esm/src/context/context.js';
import { boundedJson, MAX_CONTEXT_CHARS } from '../dist/esm/src/context/values.js';
import { setWarnSink } from '../dist/esm/src/core/warn.js';
import { clientSecret, maskKnownSecrets, maskRecordSecret } from '../dist/esm/src/instrumentation/secret.js';
import { APPS, assertCleanRun, jsonLines, readDb } from './3x-helpers/sinks.mjs';
import { startOtlpReceiver } from './helpers/otlp-receiver.mjs';
import { runApp } from './helpers/run-app.mjs';

const require = createRequire(import.meta.url);
const KEY = '3f9c2a7be1d04c6f8a5e9b1d2c7f4a60'; // Azure-style: 32 hex, no known key shape
const PII = ['bob@example.com', 'anna@example.de', '4111 1111 1111 1111', '+44 20 7946 0958', 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'];

// ── unit: maskers ───────────────────────────────────────────────────────────────────────────────

const redact = createRedactor({ mode: 'default' });
const check = (cases, r = redact) => {
  for (const [input, want] of cases) assert.equal(r(input), want, `redact(${JSON.stringify(input)})`);
};

test('cards separated by "." or "_", and written in full-width digits, are masked', () => {
  check([
    ['card 4111.1111.1111.1111 ok', 'card [CARD] ok'],
    ['card 4111_1111_1111_1111 ok', 'card [CARD] ok'],
    ['amex 3782.822463.10005', 'amex [CARD]'],
    ['カード ４１１１ １１１１ １１１１ １１１１ です', 'カード [CARD] です'],
    ['４１１１１１１１１１１１１１１１', '[CARD]'],
    ['５５５５－５５５５－５５５５－４４４４', '[CARD]'],
    // Luhn still decides; mixed separators are still not a card.
    ['4111.1111.1111.1112', '4111.1111.1111.1112'],
    ['4111.1111_1111.1111', '4111.1111_1111.1111'],
  ]);
});

test('phones: 1-415-555-0132, 86-13812345678 and full-width numbers are masked', () => {
  check([
    ['call 1-415-555-0132 now', 'call [PHONE] now'],
    ['1.415.555.0132', '[PHONE]'],
    ['1 (415) 555-0132', '[PHONE]'],
    ['call 86-13812345678 now', 'call [PHONE] now'],
    ['86 138 1234 5678', '[PHONE]'],
    ['电话：１３８１２３４５６７８。', '电话：[PHONE]。'],
    ['１３８－１２３４－５６７８', '[PHONE]'],
    ['＋４４ ２０ ７９４６ ０９５８', '[PHONE]'],
    // A full-width number in a text with ASCII digits elsewhere: only the number is replaced.
    ['2026年 电话１３８１２３４５６７８ 共42人', '2026年 电话[PHONE] 共42人'],
  ]);
});

test('internationalised email addresses are masked; CJK text around them stays', () => {
  check([
    ['mail user@bücher.de ok', 'mail [EMAIL] ok'],
    ['josé.müller@firma.de', '[EMAIL]'],
    ['联系 用户@例子.中国 谢谢', '联系 [EMAIL] 谢谢'],
    ['x user@example.中国 y', 'x [EMAIL] y'],
    ['почта иван@пример.рф', 'почта [EMAIL]'],
    ['li.lei@example.cn谢谢', '[EMAIL]谢谢'],
    ['邮箱li.lei@example.cn', '邮箱[EMAIL]'],
    // Still not emails.
    ['感谢@张三 的帮助', '感谢@张三 的帮助'],
    ['user@localhost and @types/node', 'user@localhost and @types/node'],
  ]);
});

test('aws_secret_access_key and other prefixed credential names are masked', () => {
  check([
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = [API_KEY]'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_SECRET_ACCESS_KEY=[API_KEY]'],
    ['{"SecretAccessKey": "x"} secret_access_key: abc123def', '{"SecretAccessKey": "x"} secret_access_key: [API_KEY]'],
    ['db_password: hunter22', 'db_password: [API_KEY]'],
  ]);
  // Prose and other names stay.
  check([
    ['the secret access key is rotated monthly', 'the secret access key is rotated monthly'],
    ['max_tokens=4096', 'max_tokens=4096'],
  ]);
});

test('PEM private keys are masked whole; a key cut before its END line is masked to the end', () => {
  const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAx3Yk\nq83zS9f0dXk=\n-----END RSA PRIVATE KEY-----';
  check([
    [`key:\n${pem}\nafter`, 'key:\n[PRIVATE_KEY]\nafter'],
    [JSON.stringify({ k: `${pem}\n` }), '{"k":"[PRIVATE_KEY]\\n"}'],
    [
      '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- and -----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----',
      '[PRIVATE_KEY] and [PRIVATE_KEY]',
    ],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA', '[PRIVATE_KEY]'],
    ['-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----', '[PRIVATE_KEY]'],
    // Certificates and public keys are not secrets.
    ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----'],
  ]);
});

test('the new shapes add no false positives on ordinary numbers, dates, versions and ids', () => {
  const same = [
    'ip 192.168.1.100 version 1.2.3 v20.20.2 and 10.0.0.1',
    '22.11.2026 14:30, 2026.11.22, 1.5.2024, 2026-11-22T01:02:03.456Z',
    'unix 1752732218 and ms 1752732218000, build_2026_11_22, run_1234_5678',
    'order 4111.11 EUR, 1,299.99 USD, 3.14159265358979',
    'v1-415-release and 1-2-3-4 and 86-1234',
    'item_1234_5678_9012_3456 and file_4111_1111_1111_1111.txt',
    '２０２６年１１月２２日 と ４２人',
    'ISBN 978-3-16-148410-0, order #88213',
  ];
  for (const s of same) assert.equal(redact(s), s, `must stay unchanged: ${s}`);
});

test('redaction stays linear on 1 MB of hostile input for the new shapes', () => {
  const MB = 1 << 20;
  const inputs = [
    '-----BEGIN '.repeat(MB / 11),
    '-----BEGIN RSA PRIVATE KEY-----'.repeat(MB / 31),
    '用'.repeat(MB) + '@例子',
    ('用户@' + '例'.repeat(60) + '.').repeat(MB / 64),
    'ü'.repeat(MB) + '@b',
    'a@' + 'ü.'.repeat(MB / 2),
    '４'.repeat(MB),
    '４ '.repeat(MB / 2),
    '1-'.repeat(MB / 2),
    '86-'.repeat(MB / 3),
    'aws_secret_access_key='.repeat(MB / 22),
    '_'.repeat(MB) + '=',
  ];
  // A baseline of the same size: plain prose. Hostile input may cost a small multiple of it, never
  // the quadratic blow-up (which would take minutes). Generous bound: the machine is shared.
  const t0 = performance.now();
  redact('lorem ipsum dolor sit amet '.repeat(MB / 27));
  const base = Math.max(performance.now() - t0, 5);
  for (const s of inputs) {
    const t = performance.now();
    const out = redact(s);
    const ms = performance.now() - t;
    assert.equal(typeof out, 'string');
    assert.ok(ms < Math.max(2000, 200 * base), `${JSON.stringify(s.slice(0, 24))}…: ${ms.toFixed(0)} ms (prose: ${base.toFixed(0)} ms)`);
  }
});

// ── unit: context values ────────────────────────────────────────────────────────────────────────

test('context values are made plain and bounded once, when the scope is entered', () => {
  const circular = { a: 1 };
  circular.self = circular;
  let deep = {};
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const proxy = new Proxy(
    {},
    {
      get() {
        throw new Error('get');
      },
      ownKeys() {
        throw new Error('keys');
      },
    },
  );
  const getter = Object.defineProperty({ ok: 1 }, 'bad', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  const merged = mergeLlmContext(undefined, {
    sessionId: { id: 7 },
    userId: 'x'.repeat(100_000),
    tags: [
      'a',
      1,
      null,
      Symbol('s'),
      {
        toString() {
          throw new Error('t');
        },
      },
      10n,
      'a',
    ],
    metadata: {
      circular,
      deep,
      proxy,
      getter,
      big: 2n ** 70n,
      sym: Symbol('v'),
      fn: () => 1,
      [Symbol('k')]: 'skipped',
      date: new Date(0),
      s: 'plain',
      n: 1,
    },
  });
  assert.equal(merged.sessionId, '{"id":7}');
  assert.equal(merged.userId.length, MAX_CONTEXT_CHARS + '…[truncated: 100000 chars]'.length);
  assert.deepEqual(merged.tags, ['a', '1', '[unreadable]', '10']);
  assert.deepEqual(merged.metadata, {
    circular: '{"a":1,"self":"[circular]"}',
    deep: '{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":"[…]"}}}}}}}}',
    proxy: '[unreadable]',
    getter: '{"ok":1,"bad":"[unreadable]"}',
    big: '1180591620717411303424',
    date: '"1970-01-01T00:00:00.000Z"',
    s: 'plain',
    n: 1,
  });
  // What the scope holds survives a structured clone (the writer thread) and JSON.
  assert.deepEqual(structuredClone(merged), merged);
  assert.doesNotThrow(() => JSON.stringify(merged));
  // A whole metadata object that cannot be read, a revoked Proxy as tags, a throwing getter.
  const revoked = Proxy.revocable([], {});
  revoked.revoke();
  const odd = Object.defineProperty({}, 'sessionId', {
    enumerable: true,
    get() {
      throw new Error('s');
    },
  });
  assert.deepEqual(mergeLlmContext({ tags: ['x'] }, { metadata: proxy, tags: revoked.proxy }), {
    tags: ['x', '[unreadable]'],
    metadata: { '[unreadable]': true },
  });
  assert.deepEqual(mergeLlmContext(undefined, odd), { sessionId: '[unreadable]' });
  assert.deepEqual(mergeLlmContext({ sessionId: 's' }, null), { sessionId: 's' });
});

test('boundedJson: JSON.stringify for ordinary values, bounded for huge ones', () => {
  const ordinary = [{ a: [1, 'x', null, true, { b: undefined, c: () => 1 }], d: new Date(5), e: NaN }, [undefined, Symbol('x')], 'str', 42];
  for (const v of ordinary) assert.equal(boundedJson(v), JSON.stringify(v));
  const huge = boundedJson(Array.from({ length: 1_000_000 }, (_, i) => i));
  assert.ok(huge.length <= MAX_CONTEXT_CHARS + 20 && huge.endsWith('…[truncated]'), huge.slice(-40));
  assert.ok(boundedJson({ s: 'y'.repeat(10_000_000) }).length <= MAX_CONTEXT_CHARS + 20);
  const selfJson = {
    toJSON() {
      return this;
    },
  };
  assert.equal(typeof boundedJson(selfJson), 'string');
});

// ── unit: the client's key ──────────────────────────────────────────────────────────────────────

test('clientSecret: the exact key of a client, cached per client; placeholders are not keys', () => {
  const client = { apiKey: KEY };
  const s = clientSecret(client);
  assert.deepEqual(s.keys, [KEY]);
  assert.equal(clientSecret(client), s, 'cached');
  client.apiKey = 'k'.repeat(40);
  assert.deepEqual(clientSecret(client).keys, ['k'.repeat(40)], 'a changed key is seen');
  // openai 7's admin key too.
  assert.deepEqual(clientSecret({ apiKey: null, adminAPIKey: `admin-${KEY}` }).keys, [`admin-${KEY}`]);
  for (const apiKey of ['test', 'sk-test', '<Missing Key>', undefined, null, 42, '   '.repeat(10)])
    assert.equal(clientSecret({ apiKey }), undefined, String(apiKey));
  assert.equal(clientSecret(null), undefined);
  assert.equal(
    clientSecret(
      new Proxy(
        {},
        {
          get() {
            throw new Error('no');
          },
        },
      ),
    ),
    undefined,
  );
  assert.equal(maskKnownSecrets(`run failed: ${KEY}`), 'run failed: [API_KEY]');
});

test('maskRecordSecret: no string of the record holds the key (raw or JSON-escaped); shared context is not changed', () => {
  const key = 'pr0xy"key\\with-quote-and-backslash';
  const s = clientSecret({ apiKey: key });
  const llm = { sessionId: `s-${key}`, tags: ['t', key], metadata: { [key]: key, n: 1 } };
  const rec = {
    rec: 1,
    api: 'chat.completions',
    server: { provider: 'openai' },
    llm,
    traceId: 't',
    spanId: 's',
    started: 0,
    ended: 1,
    status: 'error',
    hasResult: true,
    attempts: 1,
    model: `m-${key}`,
    requestId: `req-${key}`,
    bodyJson: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `my key ${key}` }] }),
    result: { choices: [{ message: { content: `echo ${key}` } }] },
    error: { status: 'error', errorType: 'AuthenticationError', message: `401 Incorrect API key provided: ${key}` },
  };
  maskRecordSecret(rec, s);
  const text = JSON.stringify(rec);
  assert.ok(!text.includes(key) && !text.includes(JSON.stringify(key).slice(1, -1)), text);
  assert.equal(rec.error.message, '401 Incorrect API key provided: [API_KEY]');
  assert.equal(JSON.parse(rec.resultJson).choices[0].message.content, 'echo [API_KEY]');
  assert.equal(JSON.parse(rec.bodyJson).messages[0].content, 'my key [API_KEY]');
  assert.deepEqual(rec.llm, { sessionId: 's-[API_KEY]', tags: ['t', '[API_KEY]'], metadata: { '[API_KEY]': '[API_KEY]', n: 1 } });
  assert.equal(llm.sessionId, `s-${key}`, "the scope's own context object is untouched");
});

test('LLM_OTEL_KEEP_CONTEXT: fields, metadata keys (case kept), all; unknown names warn', () => {
  assert.deepEqual(loadConfig({}).keepContext, []);
  assert.deepEqual(loadConfig({ LLM_OTEL_KEEP_CONTEXT: ' User_ID , metadata.customerEmail' }).keepContext, [
    'user_id',
    'metadata.customerEmail',
  ]);
  assert.deepEqual(loadConfig({ LLM_OTEL_KEEP_CONTEXT: 'all' }).keepContext, [
    'session_id',
    'user_id',
    'conversation_id',
    'tags',
    'metadata',
  ]);
  const seen = [];
  setWarnSink((m) => seen.push(m));
  assert.deepEqual(loadConfig({ LLM_OTEL_KEEP_CONTEXT: 'user_id,email' }).keepContext, ['user_id']);
  assert.ok(
    seen.some((m) => /LLM_OTEL_KEEP_CONTEXT="user_id,email" names unknown fields \(email\)/.test(m)),
    seen.join('\n'),
  );
});

// ── process level ───────────────────────────────────────────────────────────────────────────────

/**
 * A provider/proxy on loopback that echoes the client's key: `x-echo: error` answers 401 with the
 * key in the message (as OpenAI does for a wrong key, but whole); `x-echo: ok` repeats the prompt
 * (which holds the key) and puts the key in x-request-id. Anything else: a plain answer.
 */
async function startEchoServer() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const echo = req.headers['x-echo'];
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = {};
      }
      if (echo === 'error') {
        const text = JSON.stringify({
          error: {
            message: `Incorrect API key provided: ${key}. You can find your API key at https://example.invalid/keys.`,
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        });
        res.writeHead(401, { 'content-type': 'application/json', 'x-request-id': 'req_echo_error' });
        res.end(text);
        return;
      }
      const prompt = body.messages?.at(-1)?.content ?? '';
      const content = echo === 'ok' ? `You said: ${prompt}` : 'Southern Ocean.';
      const text = JSON.stringify({
        id: 'chatcmpl-echo',
        object: 'chat.completion',
        created: 1752732218,
        model: 'gpt-4o-mini-2024-07-18',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': echo === 'ok' ? `req-${key}` : 'req_plain' });
      res.end(text);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

const HOSTILE = ['circular', 'deep', 'proxyMetadata', 'proxyValue', 'getter', 'bigint', 'tags', 'objectIds', 'hugeSession'];

const VARIANTS = {
  // Writer thread, content also over OTLP (so OTLP shows the masked content), protobuf.
  worker: { LLM_OTEL_CAPTURE_CONTENT: 'all' },
  // Finished on the app's thread, content local only, OTLP/JSON.
  appThread: { LLM_OTEL_WRITER_THREAD: 'false', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
  // The opt-out: an email used as user id, and one metadata key, kept as given.
  keep: { LLM_OTEL_KEEP_CONTEXT: 'user_id,metadata.note' },
};

let echo;
const runs = {};

before(async () => {
  echo = await startEchoServer();
  // One at a time: the machine is small and shared.
  for (const [name, env] of Object.entries(VARIANTS)) {
    const dir = mkdtempSync(join(tmpdir(), `llm-otel-privacy-${name}-`));
    const rx = await startOtlpReceiver();
    try {
      const run = await runApp(join(APPS, 'privacy-hostile-app.mjs'), {
        preload: 'import',
        timeoutMs: 60_000,
        env: {
          TEST_OPENAI_URL: echo.url,
          TEST_KEY: KEY,
          LLM_OTEL_DB: join(dir, 'calls.db'),
          LLM_OTEL_JSONL: join(dir, 'calls.jsonl'),
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
          OTEL_SERVICE_NAME: 'privacy-app',
          ...env,
        },
      });
      await rx.settle();
      const files = ['calls.db', 'calls.db-wal', 'calls.jsonl'].map((f) => join(dir, f)).filter(existsSync);
      runs[name] = {
        run,
        dir,
        lines: jsonLines(run.stdout),
        ...readDb(join(dir, 'calls.db')),
        jsonl: existsSync(join(dir, 'calls.jsonl'))
          ? readFileSync(join(dir, 'calls.jsonl'), 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l))
          : [],
        stored: Buffer.concat(files.map((f) => readFileSync(f))),
        otlpBytes: Buffer.concat(rx.requests.map((r) => r.bytes)),
        spans: rx.spans.filter((s) => s.scope.name === 'llm-otel'),
      };
    } finally {
      await rx.close();
    }
  }
});

after(async () => {
  await echo?.close();
  for (const r of Object.values(runs)) rmSync(r.dir, { recursive: true, force: true });
});

const bySession = (rows, sid) => rows.filter((r) => r.session_id === sid);
const spanOf = (spans, row) => spans.find((s) => s.spanId === row.span_id);

for (const variant of Object.keys(VARIANTS)) {
  describe(`process: ${variant}`, () => {
    const get = () => runs[variant];

    test('the app runs cleanly; its results are unchanged (the app itself still sees the echoed key)', () => {
      const { run, lines } = get();
      assertCleanRun(run, variant);
      assert.doesNotMatch(run.stderr, /\[llm-otel\]/, `no warnings: ${run.stderr}`);
      for (const name of [...HOSTILE, 'throwingSessionGetter', 'personal']) {
        assert.deepEqual(
          lines.find((l) => l.case === name),
          { case: name, content: 'Southern Ocean.' },
          name,
        );
      }
      assert.deepEqual(
        lines.find((l) => l.case === 'echo-error'),
        { case: 'echo-error', error: 'AuthenticationError', sawKey: true },
      );
      assert.deepEqual(
        lines.find((l) => l.case === 'echo-ok'),
        { case: 'echo-ok', sawKey: true },
      );
      assert.deepEqual(
        lines.find((l) => l.case === 'echo-run'),
        { case: 'echo-run', error: 'AuthenticationError' },
      );
      assert.deepEqual(lines.at(-1), { done: true });
    });

    test('every call with hostile context is recorded, the bad value replaced by a marker (DB, JSONL, OTLP)', () => {
      const { calls, jsonl, spans } = get();
      assert.equal(calls.length, HOSTILE.length + 1 + 1 + 3, calls.map((c) => c.session_id).join(', '));
      const one = (sid) => {
        const rows = bySession(calls, sid);
        assert.equal(rows.length, 1, `${sid}: one row`);
        assert.equal(rows[0].status, 'ok');
        assert.ok(
          jsonl.some((j) => j.span_id === rows[0].span_id),
          `${sid}: a JSONL line`,
        );
        const span = spanOf(spans, rows[0]);
        assert.ok(span, `${sid}: an OTLP span`);
        assert.equal(span.attributes['session.id'], sid);
        return { row: rows[0], span };
      };
      assert.deepEqual(one('hostile-circular').row.metadata, { c: '{"a":1,"self":"[circular]"}', plain: 'kept' });
      const deep = one('hostile-deep');
      assert.equal(deep.row.metadata.deep, '{"d":{"d":{"d":{"d":{"d":{"d":{"d":{"d":"[…]"}}}}}}}}');
      assert.equal(deep.span.attributes['llm_otel.metadata.deep'], deep.row.metadata.deep);
      assert.deepEqual(one('hostile-proxyMetadata').row.metadata, { '[unreadable]': true });
      assert.deepEqual(one('hostile-proxyValue').row.metadata, { p: '[unreadable]', n: 1 });
      assert.deepEqual(one('hostile-getter').row.metadata, { ok: 'fine', bad: '[unreadable]' });
      assert.deepEqual(one('hostile-bigint').row.metadata, { big: '1000000000000000000000000000000' });
      const tags = one('hostile-tags');
      assert.deepEqual(tags.row.tags, ['1', '{"a":1}', '[unreadable]', 'ok', 'true', '10']);
      assert.deepEqual(tags.span.attributes['llm_otel.tags'], tags.row.tags);
      const ids = one('hostile-objectIds').row;
      assert.equal(ids.user_id, '{"id":7}');
      assert.equal(ids.conversation_id, 'https://example.com/c/9');
      const huge = one('hostile-hugeSession').row;
      assert.equal(huge.user_id, `${'x'.repeat(1024)}…[truncated: 1000000 chars]`);
      const getterRows = calls.filter((c) => c.user_id === 'u-getter');
      assert.equal(getterRows.length, 1);
      assert.equal(getterRows[0].session_id, '[unreadable]');
    });

    test('the echoed 32-hex key is masked in error_message, request id, content and context; never stored or sent', () => {
      const { calls, runs: runRows, messages, spans, stored, otlpBytes } = get();
      const [err] = calls.filter((c) => c.status === 'error');
      assert.equal(err.error_type, 'AuthenticationError');
      assert.match(err.error_message, /Incorrect API key provided: \[API_KEY\]\./);
      const errSpan = spanOf(spans, err);
      assert.equal(errSpan.status.codeName, 'ERROR');
      assert.equal(errSpan.status.message, err.error_message);
      const [ok] = bySession(calls, 'echo-ok');
      assert.equal(ok.request_id, 'req-[API_KEY]');
      assert.equal(spanOf(spans, ok).attributes['llm_otel.request_id'], 'req-[API_KEY]');
      assert.deepEqual(ok.metadata, { pasted: 'key [API_KEY]' });
      const contents = messages.filter((m) => m.call_id === ok.id).map((m) => m.content);
      assert.deepEqual(contents, ['my key is [API_KEY], keep it safe', 'You said: my key is [API_KEY], keep it safe']);
      if (variant === 'worker') {
        // Content over OTLP (capture all) is the masked content.
        assert.match(spanOf(spans, ok).attributes['gen_ai.output.messages'], /You said: my key is \[API_KEY\], keep it safe/);
      }
      // The agent run the failing call was thrown through.
      const [run] = runRows.filter((r) => r.session_id === 'echo-run');
      assert.equal(run.status, 'error');
      assert.match(run.error_message, /Incorrect API key provided: \[API_KEY\]\./);
      assert.match(spanOf(spans, run).status.message, /\[API_KEY\]/);
      // Not anywhere in the DB file, its WAL, the JSONL file, or any OTLP payload.
      assert.equal(stored.includes(KEY), false, 'the key is in a stored file');
      assert.equal(otlpBytes.includes(KEY), false, 'the key was sent over OTLP');
      assert.ok(otlpBytes.length > 0 && stored.length > 0);
    });

    test('session, user, conversation, tags and metadata are redacted in calls and runs (DB, JSONL, OTLP)', () => {
      const { calls, runs: runRows, spans, jsonl, stored, otlpBytes } = get();
      const keepUser = variant === 'keep';
      const user = keepUser ? 'bob@example.com' : '[EMAIL]';
      const [call] = bySession(calls, 'sess/[EMAIL]');
      assert.ok(call, `a call in session sess/[EMAIL]: ${calls.map((c) => c.session_id)}`);
      assert.equal(call.user_id, user);
      assert.equal(call.conversation_id, 'conv [PHONE]');
      assert.deepEqual(call.tags, ['card [CARD]', 'plain-tag']);
      assert.deepEqual(call.metadata, {
        phone: '[PHONE]',
        note: keepUser ? 'mail anna@example.de' : 'mail [EMAIL]',
        token: '[API_KEY]',
        n: 5,
      });
      const line = jsonl.find((j) => j.span_id === call.span_id);
      assert.equal(line.session_id, 'sess/[EMAIL]');
      assert.equal(line.user_id, user);
      const span = spanOf(spans, call);
      assert.equal(span.attributes['session.id'], 'sess/[EMAIL]');
      assert.equal(span.attributes['user.id'], user);
      assert.deepEqual(span.attributes['llm_otel.tags'], ['card [CARD]', 'plain-tag']);
      assert.equal(span.attributes['llm_otel.metadata.phone'], '[PHONE]');
      // withAgent / withTool runs carry the same context.
      const mine = runRows.filter((r) => r.session_id === 'sess/[EMAIL]');
      assert.deepEqual(mine.map((r) => r.kind).sort(), ['agent', 'tool']);
      for (const r of mine) {
        assert.equal(r.user_id, user);
        const s = spanOf(spans, r);
        assert.equal(s.attributes['user.id'], user);
        assert.equal(s.attributes['gen_ai.conversation.id'], 'conv [PHONE]');
        assert.deepEqual(s.attributes['llm_otel.tags'], ['card [CARD]', 'plain-tag']);
        assert.equal(s.attributes['llm_otel.metadata.token'], '[API_KEY]');
      }
      // Nothing of it in the files or on the wire, except what the user chose to keep.
      for (const pii of PII) {
        const kept = keepUser && (pii === 'bob@example.com' || pii === 'anna@example.de');
        assert.equal(stored.includes(pii), kept, `${pii} in the DB/JSONL files`);
        assert.equal(otlpBytes.includes(pii), kept, `${pii} over OTLP`);
      }
    });
  });
}

// ── the record that crosses to the writer thread ────────────────────────────────────────────────

test('the key is never in a call record handed to the writer thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-otel-privacy-records-'));
  const llm = await import('../dist/esm/src/index.js');
  const handle = llm.start({ config: { db: join(dir, 'calls.db'), otlp: false, captureContent: 'local' }, exitHooks: false });
  try {
    const OpenAI = require('openai-v6');
    llm.instrumentOpenAI(OpenAI);
    const rt = globalThis[Symbol.for('llm-otel.runtime')];
    assert.equal(typeof rt.offload, 'function', 'calls are finished on the writer thread');
    const records = [];
    const offload = rt.offload;
    rt.offload = (rec) => {
      records.push(structuredClone(rec));
      return offload(rec);
    };
    const client = new OpenAI.OpenAI({ baseURL: `${echo.url}/v1`, apiKey: KEY, maxRetries: 0 });
    // A key given as a function is known only once the SDK resolved it for the first request.
    const lazy = new OpenAI.OpenAI({ baseURL: `${echo.url}/v1`, apiKey: async () => KEY, maxRetries: 0 });
    await llm.withLlmContext({ sessionId: `s-${KEY}` }, async () => {
      await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `key ${KEY}` }] },
        { headers: { 'x-echo': 'ok' } },
      );
      await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-echo': 'error' } })
        .catch(() => undefined);
      await lazy.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-echo': 'error' } })
        .catch(() => undefined);
    });
    rt.offload = offload;
    await handle.forceFlush();
    assert.equal(records.length, 3);
    for (const rec of records) assert.ok(!JSON.stringify(rec).includes(KEY), JSON.stringify(rec).slice(0, 400));
    assert.match(records[1].error.message, /Incorrect API key provided: \[API_KEY\]/);
    assert.match(records[2].error.message, /Incorrect API key provided: \[API_KEY\]/);
  } finally {
    await handle.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
