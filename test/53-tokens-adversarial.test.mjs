// Token estimates on hostile text (issue #10): gpt-tokenizer merges each pre-token piece with a loop
// quadratic in the piece's length, and Thai without spaces, one character repeated or a wall of
// punctuation is one piece. The estimator must cost linear work in its input, bounded per estimate,
// and stay accurate: exact on ordinary text, close on long unbroken runs and on sampled texts.
// The work is measured, not timed: the tokenizer is replaced by a recorder and the pieces it would
// merge are measured with the tokenizers' own split patterns. One generous time ceiling and one
// process-level run (an app under --import llm-otel/register) guard the whole path.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { DIST, ROOT } from './4x-helpers/calllog.mjs';
import { DEFAULT_FIXTURE_DIRS, startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const require = createRequire(join(ROOT, 'package.json'));
const T = await import(join(DIST, 'src', 'tokens', 'index.js'));
// The tokenizers' own pre-token patterns, and their modules (the same instances llm-otel loads).
const SPLIT = require('gpt-tokenizer/encodingParams/constants');
const ENC = {
  o200k_base: { mod: require('gpt-tokenizer/encoding/o200k_base'), split: SPLIT.O200K_TOKEN_SPLIT_REGEX, model: 'gpt-4o' },
  cl100k_base: { mod: require('gpt-tokenizer/encoding/cl100k_base'), split: SPLIT.CL100K_TOKEN_SPLIT_REGEX, model: 'gpt-4' },
};
const AS_TEXT = { disallowedSpecial: new Set() };
const exact = (enc, s) => ENC[enc].mod.countTokens(s, AS_TEXT);

// Documented in README.md (token estimates): the longest piece the tokenizer is given, and the most
// text one estimate hands it.
const MAX_PIECE = 2 * 256 + 3; // code points
const BUDGET = 64 * 1024; // UTF-16 code units, plus the sample windows' edge adjustments
const BUDGET_SLACK = 64 * 32;

// ── inputs ────────────────────────────────────────────────────────────────────────────────────
function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const THAI_WORDS =
  'สวัสดี ครับ ประเทศไทย ภาษา การ ทำงาน ของ ระบบ คอมพิวเตอร์ ข้อมูล ที่ และ ใน เป็น มี ได้ ไม่ จะ ให้ กับ แล้ว ว่า อาหาร อร่อย มาก น้ำ ร้อน เย็น บ้าน โรงเรียน นักเรียน หนังสือ อ่าน เขียน เดินทาง กรุงเทพ เชียงใหม่ ทะเล ภูเขา'.split(
    ' ',
  );
const HAN =
  '的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小';
const pick = (list, n, seed) => {
  const r = rng(seed);
  let s = '';
  while (s.length < n) s += list[Math.floor(r() * list.length)];
  return s.slice(0, n);
};
const codePoints = (lo, hi, n, seed) => {
  const r = rng(seed);
  let s = '';
  while (s.length < n) s += String.fromCodePoint(lo + Math.floor(r() * (hi - lo)));
  return s.slice(0, n);
};
const rep = (unit, n) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const base64 = (n, seed = 3) => {
  const r = rng(seed);
  const b = Buffer.alloc(Math.ceil((n * 3) / 4));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b.toString('base64').slice(0, n);
};

/** Long text with no break a tokenizer would split on, and other worst cases; n UTF-16 units. */
const HOSTILE = {
  'Thai without spaces': (n) => pick(THAI_WORDS, n, 1),
  'Chinese without punctuation': (n) => pick([...HAN], n, 2),
  'one CJK character repeated': (n) => rep('中', n),
  'one Thai letter repeated': (n) => rep('ก', n),
  'one ASCII letter repeated': (n) => rep('a', n),
  'capital letters': (n) => rep('A', n),
  'random lowercase ASCII': (n) => codePoints(0x61, 0x7b, n, 4),
  'random Hangul': (n) => codePoints(0xac00, 0xd7a4, n, 5),
  'random BMP code points': (n) => codePoints(0x20, 0xd000, n, 6),
  'random code points, astral and unassigned': (n) => codePoints(0x10000, 0x10ffff, n, 7),
  'emoji with ZWJ and skin tones': (n) => pick(['👨‍👩‍👧‍👦', '👍🏽', '🇹🇭', '❤️', '🔥', '😀'], n, 8),
  'combining marks only': (n) => rep('\u0301', n),
  'letter with stacked marks': (n) => rep('e\u0301\u0302\u0303\u0304', n),
  'lone low surrogates': (n) => rep('\udc00', n),
  'lone high surrogates': (n) => rep('\ud800', n),
  punctuation: (n) => rep('!', n),
  'CJK punctuation': (n) => rep('。', n),
  'punctuation then newline-slash': (n) => '!' + rep('\n/', n - 1),
  spaces: (n) => rep(' ', n),
  newlines: (n) => rep('\n', n),
  CRLF: (n) => rep('\r\n', n),
  'tabs and spaces': (n) => rep(' \t', n),
  'no-break spaces': (n) => rep('\u00a0', n),
  'byte order marks': (n) => rep('\ufeff', n),
  'zero-width spaces': (n) => rep('\u200b', n),
  contractions: (n) => rep("a's", n),
  base64: (n) => base64(n),
};

/** What the tokenizer would do with `texts`: pieces merged, the longest, and Σ bytes² (its work). */
function measure(enc, texts) {
  let longest = 0;
  let work = 0;
  let units = 0;
  for (const text of texts) {
    units += text.length;
    for (const [piece] of text.matchAll(ENC[enc].split)) {
      const cps = [...piece].length;
      if (cps > longest) longest = cps;
      const bytes = Buffer.byteLength(piece);
      work += bytes * bytes;
    }
  }
  return { longest, work, units };
}

/** The texts llm-otel hands to the tokenizer while `fn` runs (the tokenizer itself is not run). */
function handed(enc, fn) {
  const { mod } = ENC[enc];
  const original = mod.countTokens;
  const texts = [];
  mod.countTokens = (text) => {
    texts.push(text);
    return 1;
  };
  try {
    fn();
  } finally {
    mod.countTokens = original;
  }
  return texts;
}

const estimate = (enc, text) => handed(enc, () => T.estimateTextTokens(text, ENC[enc].model));

// ── the work is bounded ──────────────────────────────────────────────────────────────────────

test('no text handed to the tokenizer holds a piece longer than the documented limit, and nothing is dropped', () => {
  T.estimateTextTokens('load', 'gpt-4o');
  T.estimateTextTokens('load', 'gpt-4');
  for (const enc of Object.keys(ENC)) {
    for (const [name, make] of Object.entries(HOSTILE)) {
      const text = make(40_000);
      const texts = estimate(enc, text);
      const m = measure(enc, texts);
      assert.ok(m.longest <= MAX_PIECE, `${enc}, ${name}: a piece of ${m.longest} code points reached the tokenizer`);
      assert.equal(texts.join(''), text, `${enc}, ${name}: the text below the budget is counted whole, in order`);
    }
  }
});

test('the tokenizer work grows linearly with the text (n and 4n), and stops growing past the budget', () => {
  for (const enc of Object.keys(ENC)) {
    for (const [name, make] of Object.entries(HOSTILE)) {
      const small = measure(enc, estimate(enc, make(12_000)));
      const large = measure(enc, estimate(enc, make(48_000)));
      // Linear up to cut positions; a quadratic merge would be 16×.
      assert.ok(large.work <= 4.5 * small.work, `${enc}, ${name}: work ×${(large.work / small.work).toFixed(1)} for 4× the text`);
      const huge = measure(enc, estimate(enc, make(1_000_000)));
      assert.ok(huge.units <= BUDGET + BUDGET_SLACK, `${enc}, ${name}: ${huge.units} characters of a 1 MB text reached the tokenizer`);
      assert.ok(huge.longest <= MAX_PIECE, `${enc}, ${name}: sampled windows are cut too (${huge.longest})`);
    }
  }
});

test('one estimate shares its budget between messages: a long conversation hands over at most the budget plus small samples', () => {
  const messages = Array.from({ length: 20 }, (_, i) => ({
    role: i % 2 ? 'assistant' : 'user',
    content: HOSTILE['Thai without spaces'](100_000 + i),
  }));
  const texts = handed('o200k_base', () => T.estimateChatTokens(messages, null, 'gpt-4o'));
  const units = texts.reduce((n, t) => n + t.length, 0);
  // The first message takes the budget; each later one a minimum sample (4096 units).
  assert.ok(units <= BUDGET + 19 * 4096 + 20 * BUDGET_SLACK, `${units} characters of 2 million reached the tokenizer`);
});

test('a hostile prompt is estimated within a generous time ceiling (it took 10–30 s per call before)', () => {
  const t0 = performance.now();
  const n = T.estimateChatTokens(
    [
      { role: 'user', content: HOSTILE['Thai without spaces'](50_000) },
      { role: 'user', content: HOSTILE['one CJK character repeated'](50_000) },
      { role: 'user', content: base64(1_000_000) },
    ],
    null,
    'gpt-4o',
  );
  const ms = performance.now() - t0;
  assert.ok(n > 50_000, `estimate ${n}`);
  assert.ok(ms < 5_000, `estimating took ${Math.round(ms)} ms`);
});

// ── accuracy stays ─────────────────────────────────────────────────────────────────────────────

test('ordinary text up to the budget is counted exactly as the tokenizer counts it (never cut)', () => {
  const prose = readFileSync(join(ROOT, 'README.md'), 'utf8') + readFileSync(join(ROOT, 'exporter', 'README.md'), 'utf8');
  const code = readFileSync(join(ROOT, 'src', 'tokens', 'estimate.ts'), 'utf8') + readFileSync(join(ROOT, 'exporter', 'writer.ts'), 'utf8');
  const json = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
  const chinese = '今天天气很好，我们去公园散步吧。我们在湖边坐了一会儿，看着孩子们放风筝。'.repeat(400);
  const thai = 'วันนี้อากาศดีมาก เราไปเดินเล่นที่สวนสาธารณะกัน แล้วนั่งพักริมทะเลสาบ '.repeat(300);
  for (const enc of Object.keys(ENC)) {
    for (const [name, text] of Object.entries({ prose, code, json, chinese, thai })) {
      const s = text.slice(0, BUDGET);
      assert.equal(T.estimateTextTokens(s, ENC[enc].model), exact(enc, s), `${enc}, ${name}`);
    }
  }
});

test('long unbroken runs: within 3 % of the exact count where it is still computable', (t) => {
  const errors = [];
  for (const enc of Object.keys(ENC)) {
    for (const name of [
      'Thai without spaces',
      'Chinese without punctuation',
      'one CJK character repeated',
      'one ASCII letter repeated',
      'random lowercase ASCII',
      'random Hangul',
      'emoji with ZWJ and skin tones',
      'letter with stacked marks',
      'spaces',
      'punctuation then newline-slash',
      'base64',
    ]) {
      const text = HOSTILE[name](6_000);
      const want = exact(enc, text);
      const got = T.estimateTextTokens(text, ENC[enc].model);
      const err = Math.abs(got - want) / want;
      errors.push(`${enc} ${name}: ${(err * 100).toFixed(2)} %`);
      assert.ok(err <= 0.03, `${enc}, ${name}: estimated ${got}, exact ${want}`);
    }
  }
  console.log(`errors: ${errors.join('; ')}`);
});

test('texts past the budget are sampled: within 2 % of the whole count', (t) => {
  const prose = readFileSync(join(ROOT, 'README.md'), 'utf8') + readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const big = rep(prose, 400_000);
  const want = exact('o200k_base', big); // ordinary text: the tokenizer is fast here
  const got = T.estimateTextTokens(big, 'gpt-4o');
  assert.ok(Math.abs(got - want) / want <= 0.02, `prose: sampled ${got}, exact ${want}`);
  // Unbroken Thai: against the sum of its budget-sized parts (each counted whole).
  const thai = HOSTILE['Thai without spaces'](4 * BUDGET);
  let parts = 0;
  for (let i = 0; i < thai.length; i += BUDGET) parts += T.estimateTextTokens(thai.slice(i, i + BUDGET), 'gpt-4o');
  const sampled = T.estimateTextTokens(thai, 'gpt-4o');
  assert.ok(Math.abs(sampled - parts) / parts <= 0.02, `Thai: sampled ${sampled}, by parts ${parts}`);
  console.log(`prose ${(((got - want) / want) * 100).toFixed(2)} %, Thai ${(((sampled - parts) / parts) * 100).toFixed(2)} %`);
});

test('the tokenizer cache does not keep counted texts alive', (t) => {
  // gpt-tokenizer caches pieces keyed by substrings, and a substring keeps its whole text alive.
  const script = `
    const T = await import(${JSON.stringify(join(DIST, 'src', 'tokens', 'index.js'))});
    const filler = 'The quick brown fox jumps over the lazy dog, again and again. '.repeat(900);
    T.estimateTextTokens('load', 'gpt-4o');
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 500; i++) {
      const word = 'Zq' + String(i).replace(/[0-9]/g, (d) => 'qwrtzpsdfg'[d]) + 'xqzwvkjhgf'; // unique, not a token
      T.estimateTextTokens(word + ' ' + filler, 'gpt-4o');
    }
    globalThis.gc();
    console.log(Math.round((process.memoryUsage().heapUsed - before) / 1e6));`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const grownMb = Number(r.stdout.trim());
  console.log(`heap grew by ${grownMb} MB`);
  // 500 texts of 56 KB: 28 MB if each stayed alive.
  assert.ok(grownMb < 10, `the heap grew by ${grownMb} MB`);
});

// ── the whole path: an app under --import llm-otel/register ────────────────────────────────────

const dir = mkdtempSync(join(tmpdir(), 'llm-otel-tokens-'));
let server;

before(async () => {
  // An OpenAI-compatible server that reports no usage: the chat recording without its `usage`.
  const recorded = JSON.parse(
    readFileSync(join(ROOT, 'test', 'fixtures', 'openai-recordings', 'openai-chat-completions-adds-genai-conventions.json'), 'utf8'),
  );
  const fixtures = join(dir, 'fixtures');
  const body = JSON.parse(gunzipSync(Buffer.from(recorded[0].response.join(''), 'hex')).toString('utf8'));
  delete body.usage;
  mkdirSync(fixtures);
  writeFileSync(
    join(fixtures, 'openai-chat-no-usage.json'),
    JSON.stringify([{ ...recorded[0], response: body, rawHeaders: { 'content-type': 'application/json' } }]),
  );
  server = await startOpenAIServer({ fixtureDirs: [...DEFAULT_FIXTURE_DIRS, fixtures] });
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const APP = join(ROOT, 'test', 'apps', 'tokens-hostile-app.mjs');

for (const writerThread of [true, false]) {
  test(`an app sending hostile prompts to a server without usage: every call logged, output unchanged, prompt exit (writer thread ${writerThread})`, async (t) => {
    const env = { TEST_OPENAI_URL: server.url };
    const baseline = await runApp(APP, { env, timeoutMs: 60_000 });
    assert.equal(baseline.code, 0, baseline.stderr);
    const db = join(dir, `calls-${writerThread}.db`);
    const r = await runApp(APP, {
      preload: 'import',
      timeoutMs: 60_000,
      env: { ...env, LLM_OTEL_DB: db, OTEL_TRACES_EXPORTER: 'none', LLM_OTEL_WRITER_THREAD: String(writerThread) },
    });
    console.log(`instrumented ${Math.round(r.durationMs)} ms, uninstrumented ${Math.round(baseline.durationMs)} ms`);
    assert.equal(r.timedOut, false);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, baseline.stdout);
    assert.match(r.stdout, /^calls: 8$/m);
    assert.doesNotMatch(r.stderr, /\[llm-otel\]/);
    // Before: one 51,600-character Thai prompt kept exit waiting 17 s and lost every call.
    assert.ok(
      r.durationMs < 10_000,
      `the instrumented app took ${Math.round(r.durationMs)} ms (uninstrumented: ${Math.round(baseline.durationMs)} ms)`,
    );
    const conn = new Database(db, { readonly: true });
    try {
      const rows = conn.prepare('SELECT usage_source, input_tokens, output_tokens FROM llm_calls ORDER BY started_at, id').all();
      assert.equal(rows.length, 8);
      assert.deepEqual(
        rows.map((x) => x.usage_source),
        ['estimated', 'estimated', 'estimated', 'estimated', 'provider', 'provider', 'provider', 'estimated'],
      );
      // 50,000 × '中' is 50,000 o200k tokens; plus the system message and the chat framing.
      for (const row of rows.slice(2, 4))
        assert.ok(row.input_tokens >= 50_000 && row.input_tokens <= 50_020, `CJK prompt estimated at ${row.input_tokens}`);
      assert.ok(rows[0].input_tokens > 10_000 && rows[0].input_tokens < 40_000, `Thai prompt estimated at ${rows[0].input_tokens}`);
      assert.ok(
        rows.every((x) => x.output_tokens > 0),
        'every answer counted',
      );
      const estimates = conn.prepare('SELECT count(*) n FROM llm_messages WHERE token_estimate IS NOT NULL').get().n;
      assert.ok(estimates >= 16, `${estimates} messages carry a token estimate`);
    } finally {
      conn.close();
    }
  });
}
