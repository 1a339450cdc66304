// The dashboard's URL parameters → read-layer filters. Every value is checked here; a bad one is an
// HttpError (400) whose message names the parameter, so no request reaches a query half-understood.

import type { CallFilter, RunFilter } from '../query/types.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const WINDOWS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
export const DEFAULT_WINDOW = '24h';

export interface Window {
  /** `1h`, `24h`, `7d`, `30d` or `custom`. */
  name: string;
  since: string;
  until: string;
  /** Hours per point of a time series. */
  bucketHours: 1 | 24;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

function isoParam(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!ISO.test(v)) throw new HttpError(400, `${name}: expected an ISO date or timestamp such as 2026-11-01T08:00Z`);
  const t = Date.parse(/T|\s/.test(v) && !/(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v.replace(' ', 'T') + 'Z' : v);
  if (Number.isNaN(t)) throw new HttpError(400, `${name}: not a valid date or time`);
  return new Date(t).toISOString();
}

/** `window=1h|24h|7d|30d` (default 24h), or `since` (and optionally `until`) for a custom window. */
export function parseWindow(q: URLSearchParams, now: number = Date.now()): Window {
  const since = isoParam(q, 'since');
  const until = isoParam(q, 'until');
  const w = q.get('window');
  if (since || until) {
    if (w && w !== 'custom') throw new HttpError(400, 'window: give either window or since/until, not both');
    const s = since ?? new Date(Date.parse(until!) - WINDOWS[DEFAULT_WINDOW]!).toISOString();
    const u = until ?? new Date(now).toISOString();
    if (s >= u) throw new HttpError(400, 'since: must be before until');
    const hours = (Date.parse(u) - Date.parse(s)) / 3_600_000;
    return { name: 'custom', since: s, until: u, bucketHours: hours > 48 ? 24 : 1 };
  }
  const name = w === null || w === '' ? DEFAULT_WINDOW : w;
  const ms = WINDOWS[name];
  if (ms === undefined) throw new HttpError(400, `window: expected one of ${Object.keys(WINDOWS).join(', ')} (or since/until)`);
  return { name, since: new Date(now - ms).toISOString(), until: new Date(now).toISOString(), bucketHours: ms > 2 * 86_400_000 ? 24 : 1 };
}

const STATUSES = ['ok', 'error', 'timeout', 'cancelled', 'failed'];

function text(q: URLSearchParams, name: string, max = 256): string | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (v.length > max) throw new HttpError(400, `${name}: longer than ${max} characters`);
  return v;
}

/** The call filters of a list or export URL: the window, then each field that is set. */
export function parseCallFilter(q: URLSearchParams, now?: number): CallFilter & { window: Window } {
  const window = parseWindow(q, now);
  const status = text(q, 'status');
  if (status !== undefined && !STATUSES.includes(status)) throw new HttpError(400, `status: expected one of ${STATUSES.join(', ')}`);
  const trace = text(q, 'trace');
  if (trace !== undefined && !/^[0-9a-f]{32}$/.test(trace)) throw new HttpError(400, 'trace: expected 32 lowercase hex digits');
  return {
    window,
    since: window.since,
    until: window.until,
    session: text(q, 'session'),
    user: text(q, 'user'),
    agent: text(q, 'agent'),
    model: text(q, 'model'),
    provider: text(q, 'provider'),
    status,
    errorText: text(q, 'q'),
    trace,
  };
}

export function parseRunFilter(q: URLSearchParams, now?: number): RunFilter & { window: Window } {
  const window = parseWindow(q, now);
  const kind = text(q, 'kind');
  if (kind !== undefined && !['agent', 'tool', 'workflow'].includes(kind))
    throw new HttpError(400, 'kind: expected agent, tool or workflow');
  const status = text(q, 'status');
  if (status !== undefined && !STATUSES.includes(status)) throw new HttpError(400, `status: expected one of ${STATUSES.join(', ')}`);
  return {
    window,
    since: window.since,
    until: window.until,
    kind,
    name: text(q, 'name'),
    session: text(q, 'session'),
    user: text(q, 'user'),
    agent: text(q, 'agent'),
    status,
  };
}

export function parseLimit(q: URLSearchParams, dflt = 50, max = 500): number {
  const v = q.get('limit');
  if (v === null || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new HttpError(400, `limit: expected a whole number from 1 to ${max}`);
  return Number(v);
}

export function parseCursor(q: URLSearchParams): string | null {
  const v = q.get('after');
  if (v === null || v === '') return null;
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(v)) throw new HttpError(400, 'after: not a page cursor');
  return v;
}

export function oneOf<T extends string>(q: URLSearchParams, name: string, values: readonly T[], dflt: T): T {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  if (!(values as readonly string[]).includes(v)) throw new HttpError(400, `${name}: expected one of ${values.join(', ')}`);
  return v as T;
}

export const SPAN_ID = /^[0-9a-f]{16}$/;
export const TRACE_ID = /^[0-9a-f]{32}$/;
