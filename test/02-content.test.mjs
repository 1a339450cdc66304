// Content redaction and truncation (src/content/redact.ts, truncate.ts, options.ts), against the
// built output: node scripts/build.mjs --no-check && node --test test/02-content.test.mjs

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'vitest';
import { cleanText, createRedactor, parseTruncation, truncateText } from '../dist/esm/src/content/index.js';

const redact = createRedactor({ mode: 'default' });

/** [input, expected] pairs; every input must come out exactly as expected. */
function check(cases, r = redact) {
  for (const [input, expected] of cases) assert.equal(r(input), expected, `redact(${JSON.stringify(input)})`);
}

test('email addresses are masked', () => {
  check([
    ['Contact bob.smith+tag@example.co.uk today', 'Contact [EMAIL] today'],
    ['a@b.co', '[EMAIL]'],
    ['<Anna.Muller@Sub.Example.ORG>', '<[EMAIL]>'],
    ['to: x_y-z%1@mail-server.example.com, cc: second@example.io.', 'to: [EMAIL], cc: [EMAIL].'],
    ['请联系 li.lei@example.cn 谢谢', '请联系 [EMAIL] 谢谢'],
  ]);
});

test('emails: decorators, handles and bare @ stay', () => {
  check([
    ['@Component({selector: "x"}) and @types/node', '@Component({selector: "x"}) and @types/node'],
    ['ping @alice on slack', 'ping @alice on slack'],
    ['user@localhost is not routable', 'user@localhost is not routable'],
    ['price @ 3.50 each', 'price @ 3.50 each'],
  ]);
});

test('international and NANP phone numbers are masked', () => {
  check([
    ['+44 20 7946 0958', '[PHONE]'],
    ['call +1 (415) 555-0132 now', 'call [PHONE] now'],
    ['415-555-0132', '[PHONE]'],
    ['415.555.0132', '[PHONE]'],
    ['(415) 555-0132', '[PHONE]'],
    ['+14155550132', '[PHONE]'],
    ['0044 20 7946 0958', '[PHONE]'],
    ['UK 020 7946 0958, Beijing 010-12345678, Paris 01 23 45 67 89', 'UK [PHONE], Beijing [PHONE], Paris [PHONE]'],
    ['+49 30 901820.', '[PHONE].'],
  ]);
});

test('CN mobile numbers are masked, also inside Chinese text', () => {
  check([
    ['13812345678', '[PHONE]'],
    ['+86 138 1234 5678', '[PHONE]'],
    ['+8613812345678', '[PHONE]'],
    ['138-1234-5678', '[PHONE]'],
    ['138 1234 5678', '[PHONE]'],
    ['请拨打13812345678联系我', '请拨打[PHONE]联系我'],
    ['手机：15900001111。', '手机：[PHONE]。'],
  ]);
});

test('phone: a greedy international match gives back a following number', () => {
  check([['+44 20 7946 0958 2026', '[PHONE] 2026']]);
});

test('ordinary numbers are not phones or cards', () => {
  const same = [
    'In 2026 and 1999 we shipped 42 books',
    'prompt_tokens: 57, completion_tokens: 1024, total_tokens: 1081',
    'It costs 3.50, or $1,299.99, or €0.002 per 1K tokens',
    '2026-11-22T01:02:03Z',
    '2026-11-22T01:02:03.456Z and 2026-11-22 01:02:03',
    '22.11.2026 14:30 and 11/22/2026 and 05-11-2026 14:30',
    'chatcmpl-123 and chatcmpl-BuC0QNgPhzfHw7tSwGnvSOIL636JK',
    'call_PXP2udMH0QECumyxuh4lpn3y resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b fp_44709d6fcb',
    'short 7, 42, 123, 12345, 123456',
    'unix 1752732218 and ms 1752732218000',
    'ip 192.168.1.100 version 1.2.3 v20.20.2',
    'sizes 256 512 1024 2048',
    'pi 3.14159265358979 and 0.000123456789',
    'order #88213 and invoice 2024-00017',
    'ISBN 978-3-16-148410-0',
    'x = +12.5% and +1500000 tokens',
    '4111 1111 1111 1112 fails Luhn',
    '1234567890123456 starts with 1',
  ];
  for (const s of same) assert.equal(redact(s), s, `must stay unchanged: ${s}`);
});

test('card numbers passing Luhn are masked', () => {
  check([
    ['card 4111 1111 1111 1111 exp 12/27', 'card [CARD] exp 12/27'],
    ['5555-5555-5555-4444', '[CARD]'],
    ['amex 3782 822463 10005', 'amex [CARD]'],
    ['4012888888881881', '[CARD]'],
    ['4222222222222 (13 digits)', '[CARD] (13 digits)'],
    ['6011111111111117.', '[CARD].'],
  ]);
});

test('cards: mixed separators or odd grouping are not a card', () => {
  check([
    ['4111-1111 1111-1111', '4111-1111 1111-1111'],
    ['41 11 11 11 11 11 11 11', '41 11 11 11 11 11 11 11'],
  ]);
});

test('API keys and provider tokens are masked', () => {
  check([
    ['key sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL ok', 'key [API_KEY] ok'],
    ['sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Q-7', '[API_KEY]'],
    ['sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z', '[API_KEY]'],
    ['AIzaSyA1234567890abcdefghijklmnopqrstuv', '[API_KEY]'],
    ['groq gsk_abcdefghijklmnopqrstuvwxyz12', 'groq [API_KEY]'],
    ['xai-abcdefghijklmnopqrstuvwxyz12', '[API_KEY]'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[API_KEY]'],
    ['AKIAIOSFODNN7EXAMPLE', '[API_KEY]'],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', '[API_KEY]'],
    ['hf_abcdefghijklmnopqrstuvwxyz0123456789', '[API_KEY]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'jwt [API_KEY]'],
  ]);
});

test('bearer tokens, Authorization headers and credential fields are masked', () => {
  check([
    ['Bearer abc.def-123456', 'Bearer [API_KEY]'],
    ['curl -H "Authorization: Bearer sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"', 'curl -H "Authorization: [API_KEY]"'],
    ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: [API_KEY]'],
    ['authorization=token123abc', 'authorization=[API_KEY]'],
    ['x-api-key: 0123456789abcdef', 'x-api-key: [API_KEY]'],
    ['{"api_key": "abc123", "model": "gpt-4o"}', '{"api_key": "[API_KEY]", "model": "gpt-4o"}'],
    ['{\\"apiKey\\":\\"abc123\\"}', '{\\"apiKey\\":\\"[API_KEY]\\"}'],
    ['OPENAI-API-KEY: s3cr3t-value', 'OPENAI-API-KEY: [API_KEY]'],
    ['password=hunter2 and client_secret: xyz789', 'password=[API_KEY] and client_secret: [API_KEY]'],
    ['https://x.example/img.png?api_key=abcd1234&size=2', 'https://x.example/img.png?api_key=[API_KEY]&size=2'],
    [
      'https://acct.blob.core.windows.net/c/a.png?sv=2024-01-01&sig=Zx9%2Fabc%3D&se=2026',
      'https://acct.blob.core.windows.net/c/a.png?sv=2024-01-01&sig=[API_KEY]&se=2026',
    ],
  ]);
});

test('api_key: prose that merely mentions keys stays', () => {
  const same = [
    'sk-learn-is-a-python-library',
    'Bearer authentication is described in RFC 6750',
    'the api key is stored in an environment variable',
    'ask-me-anything-about-your-account',
    'task-1234567890abcdefghijklmnop',
    'max_tokens=4096 and prompt_tokens: 57',
    'api_key: null',
    'set password: [REDACTED]',
  ];
  for (const s of same) assert.equal(redact(s), s, `must stay unchanged: ${s}`);
});

test('every masker in one text', () => {
  const s =
    'Mail anna.schmidt@example.de, tel +44 20 7946 0958 / 138-1234-5678, card 4111 1111 1111 1111, ' +
    'key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z. In 2026 we used 57 tokens at 3.50.';
  assert.equal(redact(s), 'Mail [EMAIL], tel [PHONE] / [PHONE], card [CARD], key [API_KEY]. In 2026 we used 57 tokens at 3.50.');
});

test('mode off disables built-ins; a list enables only those', () => {
  const s = 'bob@example.com 13812345678 4111111111111111 sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z';
  assert.equal(createRedactor({ mode: 'off' })(s), s);
  assert.equal(createRedactor({ mode: ['email'] })(s), '[EMAIL] 13812345678 4111111111111111 sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z');
  assert.equal(createRedactor({ mode: ['phone'] })(s), 'bob@example.com [PHONE] 4111111111111111 sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z');
  assert.equal(createRedactor({ mode: ['card'] })(s), 'bob@example.com 13812345678 [CARD] sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z');
  assert.equal(createRedactor({ mode: ['api_key', 'card'] })(s), 'bob@example.com 13812345678 [CARD] [API_KEY]');
  assert.equal(createRedactor({ mode: ['nonsense'] })(s), s);
});

test('custom patterns: always applied (also with mode off), before the built-ins', () => {
  const r = createRedactor({ mode: 'off', patterns: [/EMP-\d{6}/, /project (?:falcon|osprey)/gi] });
  assert.equal(r('EMP-123456 and EMP-654321 work on Project Falcon'), '[REDACTED] and [REDACTED] work on [REDACTED]');
  // Runs first: a pattern can claim text a built-in masker would also match.
  const r2 = createRedactor({ mode: 'default', patterns: [/\b\w+@internal\.example\.com/] });
  assert.equal(r2('ops@internal.example.com or bob@example.com'), '[REDACTED] or [EMAIL]');
});

test('custom patterns: empty matches, sticky flag and non-RegExp entries are harmless', () => {
  const r = createRedactor({ mode: 'off', patterns: [/x*/g, /abc/y, 'abc', null] });
  assert.equal(r('abc abc yyy'), '[REDACTED] [REDACTED] yyy');
  const original = /abc/y;
  createRedactor({ mode: 'off', patterns: [original] })('abc');
  assert.equal(original.lastIndex, 0, "the caller's RegExp is not used (its lastIndex is untouched)");
});

test('createRedactor tolerates bad options', () => {
  assert.equal(createRedactor({ mode: 'default', patterns: /x/ })('x bob@example.com'), 'x [EMAIL]');
  assert.equal(createRedactor(undefined)('bob@example.com'), '[EMAIL]');
  assert.equal(createRedactor({})('bob@example.com'), '[EMAIL]');
});

test('redactor accepts non-strings without throwing', () => {
  assert.equal(redact(undefined), '');
  assert.equal(redact(null), '');
  assert.equal(redact(12345), '12345');
  assert.equal(redact(''), '');
});

test('redaction is linear on hostile input (no catastrophic backtracking)', () => {
  // Long runs that look like the start of an email / key / phone but never complete.
  const inputs = [
    'a'.repeat(200_000) + '@',
    '1'.repeat(200_000),
    '1 2 3 4 5 6 7 8 9 0 '.repeat(10_000),
    '+' + '1-'.repeat(50_000),
    'sk-' + 'a-'.repeat(50_000),
    'x@' + 'a.'.repeat(50_000),
    'Authorization: ' + ' '.repeat(50_000),
  ];
  for (const s of inputs) {
    const out = redact(s);
    assert.equal(typeof out, 'string');
  }
});

test('truncateText: marker with the original length; shorter text unchanged', () => {
  assert.equal(truncateText('abcdef', 3), 'abc…[truncated: 6 chars]');
  assert.equal(truncateText('abc', 3), 'abc');
  assert.equal(truncateText('', 0), '');
  assert.equal(truncateText('abc', 0), '…[truncated: 3 chars]');
  assert.equal(truncateText('abc', Infinity), 'abc');
  assert.equal(truncateText('abc', NaN), 'abc');
});

test('truncateText never splits a surrogate pair', () => {
  const s = '😀😀😀'; // 6 UTF-16 code units
  assert.equal(truncateText(s, 3), '😀…[truncated: 6 chars]');
  assert.equal(truncateText(s, 4), '😀😀…[truncated: 6 chars]');
  assert.equal(truncateText(s, 1), '…[truncated: 6 chars]');
  const out = truncateText('a😀b', 2);
  assert.equal(out, 'a…[truncated: 4 chars]');
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])/.test(out), 'no lone high surrogate');
});

test('parseTruncation is the inverse of truncateText', () => {
  for (const [s, max] of [
    ['hello world', 5],
    ['x'.repeat(10_000), 4096],
    ['😀😀😀', 3],
    ['abc', 0],
  ]) {
    assert.deepEqual(parseTruncation(truncateText(s, max)), { chars: s.length, truncated: true });
  }
  assert.deepEqual(parseTruncation('hello'), { chars: 5, truncated: false });
  assert.deepEqual(parseTruncation(''), { chars: 0, truncated: false });
  assert.deepEqual(parseTruncation('…[truncated: 12 chars] but more text'), { chars: 36, truncated: false });
  assert.deepEqual(parseTruncation('see [truncated: 12 chars]'), { chars: 25, truncated: false });
});

test('cleanText: redacts, then truncates; marker counts the original length', () => {
  const o = { redact, maxChars: 20 };
  assert.equal(cleanText('mail bob@example.com', o), 'mail [EMAIL]');
  assert.equal(cleanText('short', o), 'short');
  const long = 'Write to bob@example.com about order 12345, thanks a lot';
  assert.equal(cleanText(long, o), `Write to [EMAIL] abo…[truncated: ${long.length} chars]`);
  assert.deepEqual(parseTruncation(cleanText(long, o)), { chars: long.length, truncated: true });
});

test('cleanText: a secret cut in half by the limit is still masked whole', () => {
  const key = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z';
  const text = `${'x'.repeat(10)} ${key} tail`;
  const out = cleanText(text, { redact, maxChars: 20 });
  assert.equal(out, `xxxxxxxxxx [API_KEY]…[truncated: ${text.length} chars]`);
  const out2 = cleanText(text, { redact, maxChars: 15 });
  assert.equal(out2, `xxxxxxxxxx [API…[truncated: ${text.length} chars]`);
  for (const o of [out, out2]) assert.ok(!o.includes('Ab3d') && !o.includes('sk-'), o);
  const email = `${'y'.repeat(30)} someone.important@example.com`;
  assert.equal(cleanText(email, { redact, maxChars: 35 }), `${'y'.repeat(30)} [EMA…[truncated: ${email.length} chars]`);
  // Masking made the whole text fit: nothing was cut, so no marker.
  assert.equal(cleanText(email, { redact, maxChars: 40 }), `${'y'.repeat(30)} [EMAIL]`);
});

test('cleanText: a text within the limit is never truncated, even if a mask lengthens it', () => {
  const s = 'a@b.co!'; // 7 chars → '[EMAIL]!' is 8
  assert.equal(cleanText(s, { redact, maxChars: 7 }), '[EMAIL]!');
});

test('cleanText: huge input is bounded and still marked with its full length', () => {
  const big = 'lorem ipsum 2026 '.repeat(100_000) + ' bob@example.com';
  const out = cleanText(big, { redact, maxChars: 100 });
  assert.equal(out, big.slice(0, 100) + `…[truncated: ${big.length} chars]`);
  assert.equal(cleanText(undefined, { redact, maxChars: 10 }), '');
  assert.equal(cleanText(42, { redact, maxChars: 10 }), '42');
});

test('the CJS build exposes the same functions', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../dist/cjs/src/content/index.js');
  const r = cjs.createRedactor({ mode: 'default' });
  assert.equal(r('bob@example.com 138-1234-5678'), '[EMAIL] [PHONE]');
  assert.equal(cjs.truncateText('abcdef', 3), 'abc…[truncated: 6 chars]');
});
