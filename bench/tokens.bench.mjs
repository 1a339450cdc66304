// Token estimate cost and accuracy on hostile and ordinary text: llm-otel's bounded estimator
// (src/tokens/bounded.ts) against gpt-tokenizer counting the whole text at once, which is quadratic
// in the longest unbroken run. Prints ms per estimate and the estimate's error against the whole
// count where that is still computable (up to --exact-max characters).
//   node scripts/build.mjs && node bench/tokens.bench.mjs [--sizes 10000,50000,1000000] [--exact-max 10000]

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { estimateTextTokens } = await import('../dist/esm/src/tokens/index.js');
const raw = require('gpt-tokenizer/encoding/o200k_base');
const AS_TEXT = { disallowedSpecial: new Set() };

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const sizes = arg('--sizes', '10000,50000,1000000').split(',').map(Number);
const exactMax = Number(arg('--exact-max', '10000'));

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const pick = (list, n, seed) => {
  const r = rng(seed);
  let s = '';
  while (s.length < n) s += list[Math.floor(r() * list.length)];
  return s.slice(0, n);
};
const rep = (unit, n) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const THAI =
  'สวัสดี ครับ ประเทศไทย ภาษา การ ทำงาน ของ ระบบ คอมพิวเตอร์ ข้อมูล ที่ และ ใน เป็น มี ได้ ไม่ อาหาร อร่อย มาก โรงเรียน หนังสือ เดินทาง กรุงเทพ'.split(' ');
const HAN = [...'的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天'];
const prose = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const base64 = (n) => {
  const r = rng(3);
  const b = Buffer.alloc(Math.ceil((n * 3) / 4));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b.toString('base64').slice(0, n);
};
const inputs = {
  'English prose': (n) => rep(prose, n),
  'Thai, no spaces': (n) => pick(THAI, n, 1),
  'Chinese, no punctuation': (n) => pick(HAN, n, 2),
  "'中' repeated": (n) => rep('中', n),
  "'a' repeated": (n) => rep('a', n),
  emoji: (n) => pick(['👨‍👩‍👧‍👦', '👍🏽', '🇹🇭', '🔥'], n, 5),
  'combining marks': (n) => rep('e\u0301\u0302\u0303', n),
  spaces: (n) => rep(' ', n),
  base64: base64,
};

estimateTextTokens('load the encoding', 'gpt-4o');
const time = (fn) => {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
};
console.log(`sizes in UTF-16 code units; "whole" = gpt-tokenizer on the whole text (up to ${exactMax})`);
for (const [name, make] of Object.entries(inputs)) {
  const cells = [];
  for (const n of sizes) {
    const text = make(n);
    const [est, ms] = time(() => estimateTextTokens(text, 'gpt-4o'));
    let cell = `${n}: ${ms.toFixed(1)} ms`;
    if (n <= exactMax) {
      raw.clearMergeCache();
      const [whole, wholeMs] = time(() => raw.countTokens(text, AS_TEXT));
      cell += ` (whole ${wholeMs.toFixed(1)} ms, error ${(((est - whole) / whole) * 100).toFixed(2)} %)`;
    }
    cells.push(cell);
  }
  console.log(`${name.padEnd(24)} ${cells.join(' | ')}`);
}
