// Exact attribute-map assertions for received spans, with a readable diff (missing / extra /
// different keys) rather than a wall of JSON. Volatile values are written as matchers (`is.*`).
//
//   assertAttributes(span.attributes, { 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.time_to_first_chunk': is.seconds() }, 'v6 esm chat');

import assert from 'node:assert/strict';

const MATCHER = Symbol('matcher');

function matcher(desc, test) {
  return { [MATCHER]: true, desc, test };
}

export const is = {
  number: () => matcher('<a finite number>', (v) => typeof v === 'number' && Number.isFinite(v)),
  /** A duration in seconds: a finite number ≥ 0 (and below a minute: loopback calls). */
  seconds: () => matcher('<seconds ≥ 0>', (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 60),
  nonNegativeInt: () => matcher('<an integer ≥ 0>', (v) => Number.isInteger(v) && v >= 0),
  string: () => matcher('<a non-empty string>', (v) => typeof v === 'string' && v.length > 0),
  oneOf: (list) => matcher(`<one of ${JSON.stringify(list)}>`, (v) => list.includes(v)),
};

export const isMatcher = (v) => !!v && typeof v === 'object' && v[MATCHER] === true;

/** Cost attributes come from the pricing stage (issue 5): checked by type when present. */
export const COST_KEYS = ['llm_otel.cost', 'llm_otel.currency', 'llm_otel.price_id'];
const COST_TYPES = {
  'llm_otel.cost': (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
  'llm_otel.currency': (v) => typeof v === 'string' && /^[A-Z]{3}$/.test(v),
  'llm_otel.price_id': (v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && v.length > 0),
};

export const USAGE_KEYS = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.reasoning.output_tokens',
];

/**
 * Expected-map marker for calls whose provider reported no usage (streams without include_usage,
 * streams ended early): either `llm_otel.usage_source: 'none'` and no token attributes, or
 * `'estimated'` with integer input/output token counts (the estimator's numbers are its own
 * business) and no cached/reasoning counts.
 */
export const UNREPORTED_USAGE = '__unreported_usage__';

/** Returns { actual, expected } ready for deepStrictEqual: matchers resolved, cost checked. */
export function resolveExpected(actualIn, expectedIn) {
  const actual = { ...actualIn };
  const expected = { ...expectedIn };
  for (const k of COST_KEYS) {
    if (k in actual && !(k in expected) && COST_TYPES[k](actual[k])) delete actual[k];
  }
  if (expected[UNREPORTED_USAGE]) {
    delete expected[UNREPORTED_USAGE];
    const src = actual['llm_otel.usage_source'];
    if (src === 'none') {
      expected['llm_otel.usage_source'] = 'none';
    } else if (src === 'estimated') {
      expected['llm_otel.usage_source'] = 'estimated';
      for (const k of ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens']) {
        if (k in actual) expected[k] = is.nonNegativeInt();
      }
    } else {
      expected['llm_otel.usage_source'] = is.oneOf(['none', 'estimated']);
    }
  }
  for (const [k, v] of Object.entries(expected)) {
    if (!isMatcher(v)) continue;
    expected[k] = k in actual && v.test(actual[k]) ? actual[k] : v.desc;
  }
  return { actual, expected };
}

/** Human-readable difference of two flat attribute maps ('' when equal). */
export function diffAttributes(actual, expected) {
  const lines = [];
  for (const k of Object.keys(expected).sort()) {
    if (!(k in actual)) lines.push(`  missing  ${k}: ${JSON.stringify(expected[k])}`);
    else if (JSON.stringify(actual[k]) !== JSON.stringify(expected[k])) {
      lines.push(`  differs  ${k}: got ${JSON.stringify(actual[k])}, want ${JSON.stringify(expected[k])}`);
    }
  }
  for (const k of Object.keys(actual).sort()) {
    if (!(k in expected)) lines.push(`  extra    ${k}: ${JSON.stringify(actual[k])}`);
  }
  return lines.join('\n');
}

export function assertAttributes(actualIn, expectedIn, label = 'span') {
  const { actual, expected } = resolveExpected(actualIn, expectedIn);
  const diff = diffAttributes(actual, expected);
  if (diff) {
    assert.fail(`${label}: attribute map differs\n${diff}`);
  }
  assert.deepStrictEqual(actual, expected, label);
}
