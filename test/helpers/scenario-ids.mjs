// The deterministic remote parent each scenario of test/apps/scenarios-lib.cjs runs under
// (same formula there): lets a test map received spans back to the scenario that made them.
import { createHash } from 'node:crypto';

export function scenarioIds(name) {
  const h = createHash('sha256').update(`scenario:${name}`).digest('hex');
  return { traceId: h.slice(0, 32), spanId: h.slice(32, 48) };
}

/** Groups spans by scenario name (spans of unknown traces go under '?'). */
export function spansByScenario(spans, names) {
  const byTrace = new Map(names.map((n) => [scenarioIds(n).traceId, n]));
  const out = Object.fromEntries(names.map((n) => [n, []]));
  out['?'] = [];
  for (const s of spans) out[byTrace.get(s.traceId) ?? '?'].push(s);
  return out;
}
