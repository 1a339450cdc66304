// Cost: prices from the built-in table (generated from @pydantic/genai-prices), model matching,
// disjoint token buckets, user overrides, dated prices, the DB mirror and the pricing hooks.
// Every expected cost below is computed by hand from the rates in the comment next to it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Database from 'better-sqlite3';
import { test } from 'vitest';
import { callRow, DIST, scratch, writeItems } from './4x-helpers/calllog.mjs';

const C = await import(join(DIST, 'src', 'cost', 'index.js'));
const {
  PriceBook,
  computeCost,
  createDbPricer,
  syncPricesToDb,
  addUserPrice,
  CostSpanProcessor,
  parsePriceFile,
  parsePriceRow,
  readPriceFile,
  PriceFileError,
  PriceSource,
  builtinRows,
  BUILTIN_SOURCE,
} = C;
const { CallLogWriter, openForWriting } = await import(join(DIST, 'exporter', 'index.js'));

const close = (a, b, msg) => assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} expected ${b}, got ${a}`);
const NOW = new Date('2026-11-22T00:00:00Z');
const book = PriceBook.builtin();

test('built-in table: generated from @pydantic/genai-prices, covers OpenAI and the compatible providers', () => {
  assert.equal(BUILTIN_SOURCE.package, '@pydantic/genai-prices');
  const rows = builtinRows();
  assert.ok(rows.length > 300, `only ${rows.length} rows`);
  const providers = new Set(rows.map((r) => r.provider));
  for (const p of ['openai', 'deepseek', 'qwen', 'moonshot', 'groq', 'mistral_ai', 'x_ai', 'gcp.gemini'])
    assert.ok(providers.has(p), `no ${p} rows`);
  for (const r of rows) {
    assert.equal(r.source, 'builtin');
    assert.equal(r.currency, 'USD');
    assert.ok(r.input_per_mtok !== null || r.output_per_mtok !== null, `${r.model_pattern} has no rate`);
  }
  for (const [provider, model] of [
    ['openai', 'gpt-4o'],
    ['openai', 'gpt-4.1-mini'],
    ['openai', 'o3'],
    ['openai', 'gpt-5'],
    ['deepseek', 'deepseek-chat'],
    ['openai', 'qwen-plus'],
    ['openai', 'moonshot-v1-8k'],
    ['groq', 'llama-3.3-70b-versatile'],
    ['mistral_ai', 'mistral-large-latest'],
    ['x_ai', 'grok-3'],
    ['gcp.gemini', 'gemini-2.5-flash'],
  ]) {
    assert.ok(book.match(provider, model, NOW), `no price for ${provider} ${model}`);
  }
});

test('computeCost: disjoint buckets — uncached input, cached input, output (reasoning inside output, priced once)', () => {
  const gpt4o = book.match('openai', 'gpt-4o', NOW); // 2.5 in, 1.25 cached, 10 out per 1M
  assert.deepEqual([gpt4o.input_per_mtok, gpt4o.cached_input_per_mtok, gpt4o.output_per_mtok], [2.5, 1.25, 10]);
  // plain: 1000 × 2.5 + 500 × 10 = 7500 µ$ → 0.0075
  close(computeCost({ inputTokens: 1000, outputTokens: 500 }, gpt4o), 0.0075);
  // cached: 600 uncached × 2.5 + 400 cached × 1.25 + 500 × 10 = 1500 + 500 + 5000 = 7000 µ$
  close(computeCost({ inputTokens: 1000, cachedInputTokens: 400, outputTokens: 500 }, gpt4o), 0.007);
  // reasoning tokens are part of output: same cost with or without the breakdown
  close(computeCost({ inputTokens: 1000, outputTokens: 500, reasoningTokens: 300 }, gpt4o), 0.0075);
  // cached > input (bad provider data) is capped at input: 1000 × 1.25 = 1250 µ$
  close(computeCost({ inputTokens: 1000, cachedInputTokens: 5000, outputTokens: 0 }, gpt4o), 0.00125);
  // no cached rate → cached tokens at the input rate: 1000 × 1 + 100 × 2 = 1200 µ$
  const row = {
    provider: null,
    model_pattern: 'x',
    input_per_mtok: 1,
    cached_input_per_mtok: null,
    output_per_mtok: 2,
    currency: 'EUR',
    valid_from: null,
    valid_to: null,
    source: 'user',
  };
  close(computeCost({ inputTokens: 1000, cachedInputTokens: 700, outputTokens: 100 }, row), 0.0012);
  // o3-mini style reasoning model: 2000 in (500 cached) × (1.1 / 0.55), 3000 out (2500 reasoning) × 4.4
  const o3mini = book.match('openai', 'o3-mini', NOW);
  assert.deepEqual([o3mini.input_per_mtok, o3mini.cached_input_per_mtok, o3mini.output_per_mtok], [1.1, 0.55, 4.4]);
  close(
    computeCost({ inputTokens: 2000, cachedInputTokens: 500, outputTokens: 3000, reasoningTokens: 2500 }, o3mini),
    (1500 * 1.1 + 500 * 0.55 + 3000 * 4.4) / 1e6,
  );
  // an embeddings row has no output rate: output tokens make the cost unknown, not 0
  const emb = book.match('openai', 'text-embedding-3-small', NOW);
  close(computeCost({ inputTokens: 8 }, emb), (8 * 0.02) / 1e6);
  assert.equal(computeCost({ inputTokens: 8, outputTokens: 3 }, emb), undefined);
});

test('matching: date suffixes, vendor prefixes, case; the most specific pattern wins', () => {
  const id = (p, m) => {
    const r = book.match(p, m, NOW);
    return r && `${r.provider}:${r.model_pattern}`;
  };
  assert.equal(id('openai', 'gpt-4o-2024-08-06'), 'openai:gpt-4o');
  assert.equal(id('openai', 'openai/gpt-4o'), 'openai:gpt-4o');
  assert.equal(id('openai', 'GPT-4o'), 'openai:gpt-4o');
  assert.equal(id('openai', 'gpt-4o-mini'), 'openai:gpt-4o-mini');
  assert.equal(id('openai', 'gpt-4o-mini-2024-07-18'), 'openai:gpt-4o-mini');
  assert.notEqual(book.match('openai', 'gpt-4o-mini', NOW).input_per_mtok, book.match('openai', 'gpt-4o', NOW).input_per_mtok);
  // a dated snapshot with its own price keeps it
  assert.equal(book.match('openai', 'gpt-4o-2024-05-13', NOW).input_per_mtok, 5);
  // wildcard rows: deepseek-chat* ; gemini-2.5-pro* (longest literal wins over shorter ones)
  assert.equal(id('deepseek', 'deepseek-chat'), 'deepseek:deepseek-chat*');
  assert.equal(id('gcp.gemini', 'gemini-2.5-pro-preview-06-05'), 'gcp.gemini:gemini-2.5-pro*');
  // the provider's own row first; OpenAI-compatible servers reported as `openai` still match
  assert.equal(id('groq', 'openai/gpt-oss-120b'), 'groq:gpt-oss-120b');
  assert.equal(id('openai', 'gpt-oss-120b'), 'openai:gpt-oss-120b');
  assert.equal(id('openai', 'qwen-max'), 'qwen:qwen-max');
  assert.equal(id('azure.ai.openai', 'gpt-4o'), 'openai:gpt-4o');
  assert.equal(id(undefined, 'kimi-k2.5-preview'), 'moonshot:kimi-k2.5*');
  // unknown model → no price
  assert.equal(book.match('openai', 'my-local-llama', NOW), undefined);
  assert.equal(book.match('openai', '', NOW), undefined);
});

test('a price that changed on a date: older calls keep the old price (o3: 10/40 → 2/8 on 2025-06-10)', () => {
  const before = book.match('openai', 'o3', new Date('2025-06-09T23:59:59Z'));
  const after = book.match('openai', 'o3-2025-04-16', new Date('2025-06-10T00:00:00Z'));
  assert.deepEqual([before.input_per_mtok, before.output_per_mtok], [10, 40]);
  assert.deepEqual([after.input_per_mtok, after.output_per_mtok], [2, 8]);
  // 1000 in, 1000 out: before 10 000 + 40 000 µ$ ; after 2 000 + 8 000 µ$
  close(computeCost({ inputTokens: 1000, outputTokens: 1000 }, before), 0.05);
  close(computeCost({ inputTokens: 1000, outputTokens: 1000 }, after), 0.01);
  // user rows with validity too
  const b = PriceBook.fromRows([
    {
      provider: null,
      model_pattern: 'acme-1',
      input_per_mtok: 1,
      cached_input_per_mtok: null,
      output_per_mtok: 1,
      currency: 'USD',
      valid_from: null,
      valid_to: '2026-01-01T00:00:00.000Z',
      source: 'user',
    },
    {
      provider: null,
      model_pattern: 'acme-1',
      input_per_mtok: 3,
      cached_input_per_mtok: null,
      output_per_mtok: 3,
      currency: 'USD',
      valid_from: '2026-01-01T00:00:00.000Z',
      valid_to: null,
      source: 'user',
    },
  ]);
  assert.equal(b.match(null, 'acme-1', new Date('2025-12-31T23:00:00Z')).input_per_mtok, 1);
  assert.equal(b.match(null, 'acme-1', new Date('2026-01-01T00:00:00Z')).input_per_mtok, 3);
});

test('user rows override built-in ones; aliases map Azure deployment names; currencies kept', () => {
  const file = parsePriceFile(
    JSON.stringify({
      prices: [
        { model: 'gpt-4o', input: 2, cached_input: 1, output: 8 }, // negotiated rate
        { provider: 'azure.ai.openai', model_pattern: 'gpt-4o-mini', input_per_mtok: 0.2, output_per_mtok: 0.8 },
        { model_pattern: 'qwen-plus', input_per_mtok: 0.8, output_per_mtok: 2, currency: 'cny' },
      ],
      aliases: { 'prod-chat-deployment': 'gpt-4.1-mini' },
    }),
  );
  const b = book.withOverrides(file.rows, file.aliases);
  const r = b.match('openai', 'gpt-4o-2024-11-20', NOW);
  assert.equal(r.source, 'user');
  // 1000 in (200 cached) × 2 / 1, 100 out × 8 → 1600 + 200 + 800 = 2600 µ$
  close(computeCost({ inputTokens: 1000, cachedInputTokens: 200, outputTokens: 100 }, r), 0.0026);
  // provider-specific user row applies to that provider only
  assert.equal(b.match('azure.ai.openai', 'gpt-4o-mini', NOW).input_per_mtok, 0.2);
  assert.equal(b.match('openai', 'gpt-4o-mini', NOW).input_per_mtok, 0.15);
  const q = b.match('openai', 'qwen-plus', NOW);
  assert.equal(q.currency, 'CNY');
  // alias: the deployment name is priced as gpt-4.1-mini (0.4 / 0.1 / 1.6)
  const alias = b.match('azure.ai.openai', 'prod-chat-deployment', NOW);
  assert.equal(alias.model_pattern, 'gpt-4.1-mini');
  // a call naming both: a user row for either name wins
  const b2 = book.withOverrides([
    {
      provider: null,
      model_pattern: 'my-deploy',
      input_per_mtok: 9,
      cached_input_per_mtok: null,
      output_per_mtok: 9,
      currency: 'USD',
      valid_from: null,
      valid_to: null,
      source: 'user',
    },
  ]);
  assert.equal(b2.matchAny('azure.ai.openai', ['gpt-4o-2024-08-06', 'my-deploy'], NOW).input_per_mtok, 9);
  assert.equal(b2.matchAny('azure.ai.openai', ['gpt-4o-2024-08-06', 'other-deploy'], NOW).input_per_mtok, 2.5);
});

test('price files: bad rows are reported with the row and field', () => {
  assert.throws(() => parsePriceFile('{nope'), PriceFileError);
  assert.throws(() => parsePriceFile('[{"input": 1}]'), /row 1: "model_pattern"/);
  assert.throws(() => parsePriceFile('[{"model": "x", "input": -1}]'), /input_per_mtok/);
  assert.throws(() => parsePriceFile('[{"model": "x", "input": 1, "currency": "dollars"}]'), /currency/);
  assert.throws(() => parsePriceFile('[{"model": "x", "input": 1, "valid_from": "yesterday"}]'), /valid_from/);
  assert.throws(() => parsePriceFile('[{"model": "x"}]'), /at least one/);
  assert.throws(() => readPriceFile('/nonexistent/prices.json'), /cannot read price file/);
  const ok = parsePriceFile('[{"model": "x", "output": "3.5", "valid_from": "2026-01-01"}]');
  assert.equal(ok.rows[0].output_per_mtok, 3.5);
  assert.equal(ok.rows[0].valid_from, '2026-01-01T00:00:00.000Z');
});

test('syncPricesToDb: mirrors the built-in table, idempotent, user rows untouched, used rows retired not deleted', (t) => {
  const s = scratch('cost-sync');
  t.onTestFinished(s.cleanup);
  const db = openForWriting(join(s.dir, 'c.db'), { busyTimeoutMs: 1000 });
  try {
    db.prepare(
      "INSERT INTO model_prices (provider, model_pattern, input_per_mtok, output_per_mtok, currency, source) VALUES (NULL, 'mine', 1, 2, 'EUR', 'user')",
    ).run();
    const first = syncPricesToDb(db);
    assert.equal(first.inserted, builtinRows().length);
    assert.deepEqual(syncPricesToDb(db), { inserted: 0, deleted: 0, retired: 0 });
    assert.deepEqual(syncPricesToDb(db, PriceBook.builtin()), { inserted: 0, deleted: 0, retired: 0 }, 'a book syncs its built-in rows');
    const count = () =>
      db
        .prepare('SELECT source, count(*) n FROM model_prices GROUP BY source ORDER BY source')
        .all()
        .map((r) => `${r.source}:${r.n}`);
    assert.deepEqual(count(), [`builtin:${builtinRows().length}`, 'user:1']);
    // a new table version: one row changed its price, one disappeared (and had costed a call)
    const rows = builtinRows();
    const gone = rows.findIndex((r) => r.model_pattern === 'gpt-4o' && r.provider === 'openai');
    const changed = rows.findIndex((r) => r.model_pattern === 'gpt-4o-mini' && r.provider === 'openai');
    const goneId = db
      .prepare("SELECT id FROM model_prices WHERE source='builtin' AND provider='openai' AND model_pattern='gpt-4o'")
      .get().id;
    const oldMiniId = db
      .prepare("SELECT id FROM model_prices WHERE source='builtin' AND provider='openai' AND model_pattern='gpt-4o-mini'")
      .get().id;
    db.prepare(
      "INSERT INTO llm_calls (span_id, trace_id, operation, started_at, status, price_id) VALUES ('s1', 't1', 'chat', '2026-01-01T00:00:00.000Z', 'ok', ?)",
    ).run(goneId);
    const next = rows.map((r, i) => (i === changed ? { ...r, input_per_mtok: 0.1 } : r)).filter((_, i) => i !== gone);
    const res = syncPricesToDb(db, next, NOW);
    assert.deepEqual(res, { inserted: 1, deleted: 1, retired: 1 });
    assert.equal(
      db.prepare('SELECT valid_to FROM model_prices WHERE id = ?').get(goneId).valid_to,
      NOW.toISOString(),
      'a used row stays, closed',
    );
    assert.equal(db.prepare('SELECT id FROM model_prices WHERE id = ?').get(oldMiniId), undefined, 'an unused row goes');
    assert.deepEqual(syncPricesToDb(db, next, NOW), { inserted: 0, deleted: 0, retired: 0 });
    assert.equal(db.prepare("SELECT count(*) n FROM model_prices WHERE source='user'").get().n, 1);
    // the DB book: user rows first, then built-in, each with its id
    const b = PriceBook.fromDb(db);
    assert.equal(b.match(null, 'mine', NOW).currency, 'EUR');
    assert.equal(typeof b.match('openai', 'gpt-4.1', NOW).id, 'number');
  } finally {
    db.close();
  }
});

test('addUserPrice: a price change closes the previous row; calls costed before keep their price row', (t) => {
  const s = scratch('cost-user');
  t.onTestFinished(s.cleanup);
  const db = openForWriting(join(s.dir, 'c.db'), { busyTimeoutMs: 1000 });
  try {
    const row = (input) => ({
      provider: null,
      model_pattern: 'acme',
      input_per_mtok: input,
      cached_input_per_mtok: null,
      output_per_mtok: 1,
      currency: 'USD',
      valid_from: null,
      valid_to: null,
      source: 'user',
    });
    const a = addUserPrice(db, row(1), new Date('2026-01-01T00:00:00Z'));
    assert.equal(
      db.prepare('SELECT valid_from FROM model_prices WHERE id = ?').get(a.id).valid_from,
      null,
      'the first price applies at all times',
    );
    const b = addUserPrice(db, row(2), new Date('2026-03-01T00:00:00Z'));
    assert.equal(b.closed, 1);
    assert.equal(db.prepare('SELECT valid_to FROM model_prices WHERE id = ?').get(a.id).valid_to, '2026-03-01T00:00:00.000Z');
    const bk = PriceBook.fromDb(db);
    assert.equal(bk.match(null, 'acme', new Date('2026-02-01T00:00:00Z')).id, a.id);
    assert.equal(bk.match(null, 'acme', new Date('2026-04-01T00:00:00Z')).id, b.id);
  } finally {
    db.close();
  }
});

test('createDbPricer through the exporter writer: cost, currency and a real price_id; unknown model → NULL', async (t) => {
  const s = scratch('cost-writer');
  t.onTestFinished(s.cleanup);
  const path = join(s.dir, 'calls.db');
  const pricer = createDbPricer(null, {});
  await writeItems(
    path,
    [
      {
        kind: 'call',
        messages: [],
        call: callRow({
          span_id: '00000000000000a1',
          request_model: 'gpt-4o-mini',
          response_model: 'gpt-4o-mini-2024-07-18',
          input_tokens: 2000,
          cached_input_tokens: 1000,
          output_tokens: 100,
        }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({ span_id: '00000000000000a2', request_model: 'no-such-model', input_tokens: 10, output_tokens: 10 }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({ span_id: '00000000000000a3', request_model: 'gpt-4o', input_tokens: null, output_tokens: null, status: 'error' }),
      },
      {
        kind: 'call',
        messages: [],
        call: callRow({
          span_id: '00000000000000a4',
          request_model: 'gpt-4o',
          input_tokens: 10,
          output_tokens: 10,
          cost: 42,
          currency: 'EUR',
        }),
      },
    ],
    { price: pricer },
  );
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT span_id, cost, currency, price_id FROM llm_calls ORDER BY span_id').all();
    // gpt-4o-mini: 1000 × 0.15 + 1000 × 0.075 + 100 × 0.6 = 150 + 75 + 60 = 285 µ$
    close(rows[0].cost, 0.000285);
    assert.equal(rows[0].currency, 'USD');
    const price = db.prepare('SELECT * FROM model_prices WHERE id = ?').get(rows[0].price_id);
    assert.equal(price.model_pattern, 'gpt-4o-mini');
    assert.equal(price.source, 'builtin');
    assert.deepEqual(
      rows.slice(1).map((r) => [r.cost, r.currency, r.price_id]),
      [
        [null, null, null],
        [null, null, null],
        [42, 'EUR', null],
      ],
    );
  } finally {
    db.close();
  }
});

test('a user price set in the DB (another process) is picked up by the running pricer', async (t) => {
  const s = scratch('cost-reload');
  t.onTestFinished(s.cleanup);
  const path = join(s.dir, 'calls.db');
  const w = new CallLogWriter({ path, busyTimeoutMs: 1000 });
  const pricer = createDbPricer(null, { checkIntervalMs: 0 });
  try {
    assert.ok(
      w.writeBatch(
        [
          {
            kind: 'call',
            messages: [],
            call: callRow({ span_id: '00000000000000b1', request_model: 'acme-llm', input_tokens: 1000, output_tokens: 1000 }),
          },
        ],
        { force: true },
      ),
    );
    assert.equal(pricer(callRow({ request_model: 'acme-llm', input_tokens: 1000, output_tokens: 1000 }), w.db), null, 'not priced yet');
    const other = new Database(path);
    other
      .prepare(
        "INSERT INTO model_prices (provider, model_pattern, input_per_mtok, output_per_mtok, currency, source) VALUES (NULL, 'acme-llm', 3, 4, 'CNY', 'user')",
      )
      .run();
    other.close();
    const hit = pricer(callRow({ request_model: 'acme-llm', input_tokens: 1000, output_tokens: 1000 }), w.db);
    // 1000 × 3 + 1000 × 4 = 7000 µ¥
    close(hit.cost, 0.007);
    assert.equal(hit.currency, 'CNY');
    assert.equal(typeof hit.priceId, 'number');
  } finally {
    w.close();
  }
});

test('CostSpanProcessor sets llm_otel.cost / currency / price_id while the span ends; leaves others alone', async (t) => {
  const s = scratch('cost-span');
  t.onTestFinished(s.cleanup);
  const prices = join(s.dir, 'prices.json');
  writeFileSync(prices, JSON.stringify([{ model: 'house-model', input: 1, output: 2, currency: 'EUR' }]));
  const source = new PriceSource({ path: join(s.dir, 'calls.db'), overrides: readPriceFile(prices) });
  t.onTestFinished(() => source.close());
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new CostSpanProcessor({ book: () => source.book() }), new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('llm-otel');
  const attrs = (model, over = {}) => ({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': model,
    'gen_ai.usage.input_tokens': 1000,
    'gen_ai.usage.output_tokens': 500,
    ...over,
  });
  tracer
    .startSpan('chat gpt-4o', {
      attributes: attrs('gpt-4o', { 'gen_ai.usage.cache_read.input_tokens': 400, 'gen_ai.response.model': 'gpt-4o-2024-08-06' }),
    })
    .end();
  tracer.startSpan('chat house-model', { attributes: attrs('house-model') }).end();
  tracer.startSpan('chat unknown', { attributes: attrs('mystery-model') }).end();
  tracer.startSpan('chat priced', { attributes: attrs('gpt-4o', { 'llm_otel.cost': 1.5 }) }).end();
  tracer.startSpan('invoke_agent x', { attributes: { 'gen_ai.operation.name': 'invoke_agent' } }).end();
  tracer.startSpan('GET /', {}).end();
  const spans = Object.fromEntries(exporter.getFinishedSpans().map((sp) => [sp.name, sp.attributes]));
  // 600 × 2.5 + 400 × 1.25 + 500 × 10 = 1500 + 500 + 5000 = 7000 µ$
  close(spans['chat gpt-4o']['llm_otel.cost'], 0.007);
  assert.equal(spans['chat gpt-4o']['llm_otel.currency'], 'USD');
  assert.equal(typeof spans['chat gpt-4o']['llm_otel.price_id'], 'number', 'priced from the DB mirror: a real row id');
  // LLM_OTEL_PRICES row: 1000 × 1 + 500 × 2 = 2000 µ€ ; mirrored into the DB, so it has an id too
  close(spans['chat house-model']['llm_otel.cost'], 0.002);
  assert.equal(spans['chat house-model']['llm_otel.currency'], 'EUR');
  const fileId = spans['chat house-model']['llm_otel.price_id'];
  assert.equal(typeof fileId, 'number', 'an LLM_OTEL_PRICES row names its model_prices row like a built-in one');
  const db = new Database(join(s.dir, 'calls.db'), { readonly: true });
  const row = db
    .prepare('SELECT provider, model_pattern, input_per_mtok, output_per_mtok, currency, source FROM model_prices WHERE id = ?')
    .get(fileId);
  db.close();
  assert.deepEqual(row, {
    provider: null,
    model_pattern: 'house-model',
    input_per_mtok: 1,
    output_per_mtok: 2,
    currency: 'EUR',
    source: 'file',
  });
  assert.equal(spans['chat unknown']['llm_otel.cost'], undefined, 'unknown model: no cost, never 0');
  assert.equal(spans['chat priced']['llm_otel.cost'], 1.5);
  assert.equal(spans['invoke_agent x']['llm_otel.cost'], undefined);
  assert.equal(spans['GET /']['llm_otel.cost'], undefined);
  await provider.shutdown();
});

test('LLM_OTEL_PRICES rows in the DB: found again by content, never deleted, never pricing for processes without the file', (t) => {
  const s = scratch('cost-file-rows');
  t.onTestFinished(s.cleanup);
  const path = join(s.dir, 'calls.db');
  const file = (rows) => parsePriceFile(JSON.stringify(rows));
  const house = { model: 'house-model', input: 1, output: 2, currency: 'EUR' };
  const call = { provider: 'openai', request_model: 'house-model', input_tokens: 1000, output_tokens: 500 };
  const priced = (overrides) => {
    const src = new PriceSource({ path, overrides });
    try {
      return src.price(call);
    } finally {
      src.close();
    }
  };
  const first = priced(file([house]));
  close(first.cost, 0.002);
  assert.equal(typeof first.priceId, 'number');
  // The same file in another process (here: another source): the same row.
  assert.equal(priced(file([house])).priceId, first.priceId);
  // An edited file: a new row; the old one stays for the calls that name it.
  const edited = priced(file([{ ...house, output: 3 }]));
  close(edited.cost, 0.0025);
  assert.notEqual(edited.priceId, first.priceId);
  // A process without the file does not get its prices.
  assert.equal(priced(null), null);
  const db = new Database(path, { readonly: true });
  const rows = db.prepare("SELECT id, output_per_mtok FROM model_prices WHERE source = 'file' ORDER BY id").all();
  db.close();
  assert.deepEqual(rows, [
    { id: first.priceId, output_per_mtok: 2 },
    { id: edited.priceId, output_per_mtok: 3 },
  ]);
  // A file row overrides a DB user row for the same model, as before it had an id.
  const w = openForWriting(path, { busyTimeoutMs: 1000 });
  addUserPrice(w, parsePriceRow({ model: 'house-model', input: 9, output: 9 }));
  w.close();
  assert.equal(priced(file([house])).priceId, first.priceId);
});

test('PriceSource without a usable DB prices from the built-in table (no ids)', (t) => {
  const s = scratch('cost-nodb');
  t.onTestFinished(s.cleanup);
  const foreign = join(s.dir, 'foreign.db');
  const f = new Database(foreign);
  f.exec('CREATE TABLE t (x)');
  f.close();
  const src = new PriceSource({ path: foreign });
  t.onTestFinished(() => src.close());
  const r = src.price({ provider: 'openai', request_model: 'gpt-4o', input_tokens: 1000, output_tokens: 0 });
  close(r.cost, 0.0025);
  assert.equal(r.priceId, null);
  assert.equal(new PriceSource({ path: null }).price({ request_model: 'nope', input_tokens: 1, output_tokens: 1 }), null);
});

test('an app priced from LLM_OTEL_PRICES: its row and its span name the price row, source file', async (t) => {
  const { installMatrix } = await import('./helpers/matrix.mjs');
  const { startOpenAIServer } = await import('./helpers/openai-server.mjs');
  const { startOtlpReceiver } = await import('./helpers/otlp-receiver.mjs');
  const { runApp } = await import('./helpers/run-app.mjs');
  const s = scratch('cost-file-app');
  t.onTestFinished(s.cleanup);
  const app = installMatrix(['openai-app.mjs', 'scenarios-lib.cjs'], [6])[6]['openai-app.mjs'];
  const server = await startOpenAIServer();
  t.onTestFinished(() => server.close());
  const rx = await startOtlpReceiver();
  t.onTestFinished(() => rx.close());
  const prices = join(s.dir, 'prices.json');
  // Overrides the built-in gpt-4o-mini price.
  writeFileSync(prices, JSON.stringify({ prices: [{ model: 'gpt-4o-mini', input: 1000, output: 2000, currency: 'EUR' }] }));
  const db = join(s.dir, 'calls.db');
  const r = await runApp(app, {
    preload: 'import',
    args: ['chat'],
    env: {
      TEST_OPENAI_URL: server.url,
      TEST_API_KEY: 'sk-llmotel-prices-0a1b',
      LLM_OTEL_DB: db,
      LLM_OTEL_PRICES: prices,
      OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    },
  });
  assert.equal(r.code, 0, r.stderr);
  await rx.settle();
  const conn = new Database(db, { readonly: true });
  const call = conn.prepare('SELECT span_id, input_tokens, output_tokens, cost, currency, price_id FROM llm_calls').get();
  const price = conn
    .prepare('SELECT model_pattern, input_per_mtok, output_per_mtok, currency, source FROM model_prices WHERE id = ?')
    .get(call.price_id);
  conn.close();
  assert.deepEqual(price, { model_pattern: 'gpt-4o-mini', input_per_mtok: 1000, output_per_mtok: 2000, currency: 'EUR', source: 'file' });
  close(call.cost, (call.input_tokens * 1000 + call.output_tokens * 2000) / 1e6);
  assert.equal(call.currency, 'EUR');
  const span = rx.spans.find((x) => x.spanId === call.span_id);
  assert.equal(span.attributes['llm_otel.price_id'], call.price_id);
  assert.equal(span.attributes['llm_otel.cost'], call.cost);
});
