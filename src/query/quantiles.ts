// Latency quantiles of a group in one pass: exact while a group holds up to EXACT_MAX values, then a
// log-bucket histogram (0.5% wide: reported quantiles are within 0.25% of the exact value). Shared
// by the stores that compute percentiles in JavaScript.

import { roundSum } from './rows.js';
import type { LatencySummary } from './types.js';

export const EXACT_MAX = 20_000;
const STEP = Math.log(1.005);
const SUB_MS = 100; // below 1 ms: buckets of 0.01 ms
const MAX_BUCKET = 200_000; // ≈ e^1000 ms: beyond any real duration

/**
 * The histogram bucket of `v` as SQL over the expression `v` (a double), computed as bucketOf()
 * does, so a store that ranks buckets in SQL reports the same quantiles as this class.
 */
export function bucketSql(v: string): string {
  return `CASE WHEN ${v} <= 0 THEN 0 WHEN ${v} < 1 THEN floor(${v} * ${SUB_MS}) ELSE least(${SUB_MS} + floor(ln(${v}) / ln(1.005::float8)), ${MAX_BUCKET}) END`;
}

/** A quantile from the histogram: the value of its bucket, within the group's min and max. */
export function histogramValue(bucket: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, bucketValue(bucket)));
}

function bucketOf(v: number): number {
  if (v < 1) return Math.max(0, Math.floor(v * SUB_MS));
  return SUB_MS + Math.floor(Math.log(v) / STEP);
}
export function bucketValue(b: number): number {
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
  /** Counts per bucket (a typed array: one increment per value, no Map lookups). */
  private hist: Uint32Array | null = null;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
    if (this.exact) {
      this.exact.push(v);
      this.sorted = false;
      if (this.exact.length > EXACT_MAX) {
        this.hist = new Uint32Array(4096);
        for (const x of this.exact) this.bump(x);
        this.exact = null;
      }
    } else this.bump(v);
  }

  private bump(v: number): void {
    // Bad data stays bounded: negative durations count in the first bucket, absurd ones in the last.
    const b = v > 0 ? Math.min(bucketOf(v), MAX_BUCKET) : 0;
    if (b >= this.hist!.length) {
      const grown = new Uint32Array(Math.max(b + 1, this.hist!.length * 2));
      grown.set(this.hist!);
      this.hist = grown;
    }
    this.hist![b]!++;
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
    const hist = this.hist!;
    let seen = 0;
    for (let k = 0; k < hist.length; k++) {
      seen += hist[k]!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketValue(k)));
    }
    return this.max;
  }

  get avg(): number | null {
    return this.n === 0 ? null : this.sum / this.n;
  }
}

/** The fixed percentiles every view shows (unrounded: each view rounds as it prints; the mean to roundSum's digits). */
export function summarize(q: Quantiles): LatencySummary {
  return { n: q.n, avg: roundSum(q.avg), max: q.n ? q.max : null, p50: q.q(0.5), p90: q.q(0.9), p95: q.q(0.95), p99: q.q(0.99) };
}
