// Latency quantiles of a group in one pass: exact while a group holds up to EXACT_MAX values, then a
// log-bucket histogram (0.5% wide: reported quantiles are within 0.25% of the exact value). Shared
// by the stores that compute percentiles in JavaScript.

import type { LatencySummary } from './types.js';

const EXACT_MAX = 20_000;
const STEP = Math.log(1.005);
const SUB_MS = 100; // below 1 ms: buckets of 0.01 ms

function bucketOf(v: number): number {
  if (v < 1) return Math.max(0, Math.floor(v * SUB_MS));
  return SUB_MS + Math.floor(Math.log(v) / STEP);
}
function bucketValue(b: number): number {
  if (b < SUB_MS) return (b + 0.5) / SUB_MS;
  return Math.exp((b - SUB_MS + 0.5) * STEP);
}

export class Quantiles {
  n = 0;
  sum = 0;
  max = -Infinity;
  min = Infinity;
  private exact: number[] | null = [];
  private sorted = false;
  private hist: Map<number, number> | null = null;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    if (this.exact) {
      this.exact.push(v);
      this.sorted = false;
      if (this.exact.length > EXACT_MAX) {
        this.hist = new Map();
        for (const x of this.exact) this.bump(x);
        this.exact = null;
      }
    } else this.bump(v);
  }

  private bump(v: number): void {
    const b = bucketOf(v);
    this.hist!.set(b, (this.hist!.get(b) ?? 0) + 1);
  }

  /** Nearest-rank quantile (p in 0..1); null when empty. */
  q(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.min(this.n, Math.max(1, Math.ceil(p * this.n)));
    if (this.exact) {
      if (!this.sorted) {
        this.exact.sort((a, b) => a - b);
        this.sorted = true;
      }
      return this.exact[rank - 1]!;
    }
    const keys = [...this.hist!.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const k of keys) {
      seen += this.hist!.get(k)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(k)));
    }
    return this.max;
  }

  get avg(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }
}

/** The fixed percentiles every view shows (unrounded: each view rounds as it prints). */
export function summarize(q: Quantiles): LatencySummary {
  return { n: q.n, avg: q.avg, max: q.n ? q.max : null, p50: q.q(0.5), p90: q.q(0.9), p95: q.q(0.95), p99: q.q(0.99) };
}
