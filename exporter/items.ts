// What travels to the writer thread: span data (mapped to rows there) or an LLM call's record
// (finished there: see src/pipeline/finisher.ts). Both sides count the same size for each item, so the
// bytes-in-transit bound holds.

import { spanDataSize, type SpanData } from './rows.js';
import type { CallRecord } from '../src/finish/finish.js';

export type QueueItem = SpanData | CallRecord;

/** Queue memory is counted in units of 64 bytes so int32 counters cover 128 GiB before wrapping. */
export const SIZE_UNIT = 64;

export function itemUnits(item: QueueItem): number {
  const bytes = (item as CallRecord).rec === 1 ? recordSize(item as CallRecord) : spanDataSize(item as SpanData);
  return Math.ceil(bytes / SIZE_UNIT);
}

/** Rough memory of a record: its strings dominate (prompts, responses). Bounded walk. */
function recordSize(rec: CallRecord): number {
  const body = rec.bodyJson !== undefined ? 2 * rec.bodyJson.length : approx(rec.body, 0);
  const result = rec.resultJson !== undefined ? 2 * rec.resultJson.length : approx(rec.result, 0);
  return 1024 + body + result;
}

function approx(v: unknown, depth: number): number {
  if (typeof v === 'string') return 2 * v.length;
  if (v === null || typeof v !== 'object' || depth > 6) return 8;
  let n = 16;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += approx(v[i], depth + 1);
  } else {
    for (const k in v as Record<string, unknown>) n += k.length + approx((v as Record<string, unknown>)[k], depth + 1);
  }
  return n;
}
