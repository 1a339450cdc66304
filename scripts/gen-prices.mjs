#!/usr/bin/env node
// Generates src/cost/builtin-data.ts — the built-in price table — from the data bundled in the npm
// package @pydantic/genai-prices (MIT, maintained by Pydantic: https://github.com/pydantic/genai-prices).
// Run after bumping that devDependency:  node scripts/gen-prices.mjs
// The output is committed, so neither the build nor users at run time need the package.
//
// Conversion into our `model_prices` rows (one row per match clause and price period):
// - match clauses: `equals` → exact pattern, `starts_with` → `x*`, `contains` → `*x*`,
//   `ends_with` → `*x`; `or` is flattened; `and` keeps its longest positive clause (its negative
//   regex parts only exclude names that have their own, more specific rows); a `regex` keeps its
//   literal prefix as `prefix*` when that prefix is at least 4 characters, else it is dropped.
//   Names are normalised like call models are (lower case, `vendor/` prefix removed); clauses that
//   are only a dated variant of another clause of the same model are dropped (matching strips
//   date suffixes itself).
// - prices: `input_mtok`, `cache_read_mtok`, `output_mtok` per million tokens, USD. Tiered prices
//   (a higher rate above N prompt tokens) keep their base rate. Cache writes, audio, images and
//   per-request fees are not modelled. Models without a text input/output rate are skipped.
// - conditional prices: `start_date` constraints become valid_from/valid_to periods. Time-of-day
//   windows cannot be expressed by a row: the rate in force for most hours of the day is used.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// The package does not export ./package.json: find it beside the resolved entry.
const entry = require.resolve('@pydantic/genai-prices');
const pkgJson = JSON.parse(readFileSync(entry.slice(0, entry.lastIndexOf('/dist/')) + '/package.json', 'utf8'));
const { findProvider } = await import('@pydantic/genai-prices');

/** genai-prices provider id → our provider name (gen_ai.provider.name where semconv has one). */
const PROVIDERS = [
  { id: 'openai', as: 'openai' },
  { id: 'deepseek', as: 'deepseek' },
  { id: 'moonshotai', as: 'moonshot' },
  { id: 'groq', as: 'groq' },
  { id: 'mistral', as: 'mistral_ai' },
  { id: 'x-ai', as: 'x_ai' },
  { id: 'perplexity', as: 'perplexity' },
  // Google's list also holds Claude-on-Vertex; keep the Gemini API models.
  { id: 'google', as: 'gcp.gemini', keep: (m) => /^(gemini|gemma)/.test(m.id) },
  // genai-prices has no DashScope provider; OpenRouter passes Alibaba's own Qwen prices through.
  { id: 'openrouter', as: 'qwen', keep: (m) => /^qwen\//.test(m.id) && !m.id.endsWith(':free') },
];

const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;

function normalize(name) {
  const lower = name.trim().toLowerCase();
  const slash = lower.lastIndexOf('/');
  return slash >= 0 ? lower.slice(slash + 1) : lower;
}

function literalPrefixOfRegex(re) {
  if (!re.startsWith('^')) return null;
  let out = '';
  for (let i = 1; i < re.length; i++) {
    const c = re[i];
    if (c === '\\' && i + 1 < re.length && /[.\-/]/.test(re[i + 1])) {
      out += re[i + 1];
      i++;
      continue;
    }
    if (/[\\^$.|?*+()[\]{}]/.test(c)) break;
    out += c;
  }
  return out.length >= 4 ? out : null;
}

/** Flattens a MatchLogic into glob patterns (see header). */
function patternsOf(match, skipped) {
  if ('or' in match) return match.or.flatMap((m) => patternsOf(m, skipped));
  if ('and' in match) {
    const parts = match.and.flatMap((m) => ('regex' in m ? [] : patternsOf(m, skipped)));
    parts.sort((a, b) => b.replace(/\*/g, '').length - a.replace(/\*/g, '').length);
    return parts.slice(0, 1);
  }
  if ('equals' in match) return [normalize(match.equals)];
  if ('starts_with' in match) return [normalize(match.starts_with) + '*'];
  if ('contains' in match) return ['*' + match.contains.toLowerCase() + '*'];
  if ('ends_with' in match) return ['*' + normalize(match.ends_with)];
  if ('regex' in match) {
    const p = literalPrefixOfRegex(match.regex);
    if (p === null) {
      skipped.push(match.regex);
      return [];
    }
    return [normalize(p) + '*'];
  }
  return [];
}

function rate(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && typeof v.base === 'number') return v.base; // tiered: base tier
  return null;
}

function hoursOf(c) {
  const toH = (t) => {
    const [h, m, s] = t.replace('Z', '').split(':').map(Number);
    return h + (m || 0) / 60 + (s || 0) / 3600;
  };
  const a = toH(c.start_time);
  const b = toH(c.end_time);
  return b >= a ? b - a : 24 - a + b;
}

/** Price periods of one model: [{from, to, prices}]. */
function periodsOf(prices) {
  if (!Array.isArray(prices)) return [{ from: null, to: null, prices }];
  const base = prices.find((p) => !p.constraint);
  const dated = prices
    .filter((p) => p.constraint?.type === 'start_date')
    .sort((a, b) => a.constraint.start_date.localeCompare(b.constraint.start_date));
  const windows = prices.filter((p) => p.constraint?.type === 'time_of_date');
  // Time-of-day windows listed later win inside their hours; if they cover most of the day,
  // their rate is the one a row should carry.
  const windowHours = windows.reduce((n, w) => n + hoursOf(w.constraint), 0);
  const majority = windowHours > 12 ? windows[0].prices : null;
  const out = [];
  const starts = [{ from: null, prices: base?.prices }, ...dated.map((d) => ({ from: d.constraint.start_date, prices: d.prices }))].filter(
    (s) => s.prices,
  );
  starts.forEach((s, i) => {
    const next = starts[i + 1];
    out.push({
      from: s.from ? `${s.from}T00:00:00.000Z` : null,
      to: next ? `${next.from}T00:00:00.000Z` : null,
      prices: majority ?? s.prices,
    });
  });
  return out;
}

const rows = [];
const seen = new Set();
const skippedRegex = [];
let skippedModels = 0;
for (const spec of PROVIDERS) {
  const provider = findProvider({ providerId: spec.id });
  if (!provider) throw new Error(`genai-prices has no provider ${spec.id}`);
  for (const model of provider.models) {
    if (spec.keep && !spec.keep(model)) continue;
    let pats = [...new Set(patternsOf(model.match, skippedRegex))];
    // A dated clause is redundant when its undated form is another clause of the same model.
    pats = pats.filter((p) => !(DATE_SUFFIX.test(p) && pats.includes(p.replace(DATE_SUFFIX, ''))));
    const periods = periodsOf(model.prices);
    let any = false;
    for (const period of periods) {
      const input = rate(period.prices.input_mtok);
      const output = rate(period.prices.output_mtok);
      if (input === null && output === null) continue;
      const cached = rate(period.prices.cache_read_mtok);
      for (const pattern of pats) {
        const key = `${spec.as}|${pattern}|${period.from}`;
        if (seen.has(key)) continue; // first model listed wins, as in genai-prices
        seen.add(key);
        rows.push([spec.as, pattern, input, cached, output, period.from, period.to]);
        any = true;
      }
    }
    if (!any) skippedModels++;
  }
}

const body = JSON.stringify(rows);
const version = createHash('sha256').update(body).digest('hex').slice(0, 16);
const lines = rows.map((r) => '  ' + JSON.stringify(r) + ',').join('\n');
const out = `// GENERATED by scripts/gen-prices.mjs — do not edit by hand; re-run the script instead.
// Source: @pydantic/genai-prices ${pkgJson.version} (MIT License, Copyright (c) Pydantic Services Inc.,
// https://github.com/pydantic/genai-prices). Prices in USD per million tokens.
// Row: [provider, model_pattern, input_per_mtok, cached_input_per_mtok, output_per_mtok, valid_from, valid_to]

export const BUILTIN_SOURCE = ${JSON.stringify({ package: '@pydantic/genai-prices', version: pkgJson.version, license: 'MIT', url: 'https://github.com/pydantic/genai-prices' })} as const;

/** Content hash of the rows: changes whenever the table changes. */
export const BUILTIN_VERSION = '${version}';

export type BuiltinRow = readonly [string, string, number | null, number | null, number | null, string | null, string | null];

export const BUILTIN_ROWS: readonly BuiltinRow[] = [
${lines}
];
`;
writeFileSync(new URL('../src/cost/builtin-data.ts', import.meta.url), out);
console.log(
  `wrote ${rows.length} rows (version ${version}); ${skippedModels} models without token prices skipped; ${skippedRegex.length} regex clauses dropped`,
);
