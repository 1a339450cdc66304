// Whether spans and metrics reach the OTLP endpoint, told to the user once: the SDK's exporters
// report failures only through `diag`, which prints nothing unless the app set up a diag logger, so
// a dead collector, a wrong path or a bad auth header would otherwise lose everything in silence.
//
// One warning per collector, kind of failure and episode: both threads that export (the app's, the
// writer's) and both signals share the key through warn.ts, so the user sees one line for a dead
// collector whichever noticed first; a note when exports succeed again re-arms it.

import { hasWarned, hasWarnedWithPrefix, resetWarning, warnOnce } from '../core/warn.js';

/** The endpoint as it is safe to print: no user:password, no query (tokens live there too). */
export function endpointLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

/**
 * The collector an endpoint belongs to: its label without the signal's path, so that traces and
 * metrics sent to one collector (OTEL_EXPORTER_OTLP_ENDPOINT) share their warnings.
 */
export function collectorOf(url: string): string {
  return endpointLabel(url).replace(/v1\/(traces|metrics)$/, '');
}

/** What a signal's exports carry, for the warnings. */
export type Signal = 'traces' | 'metrics';
const WHAT: Record<Signal, string> = { traces: 'spans', metrics: 'metrics' };

/** One line, bounded: error texts from the network can be long or multi-line. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export class ExportHealth {
  private failing = false;
  /** The key of the current episode's warning, and whether this exporter printed it. */
  private episode: { key: string; printed: boolean } | null = null;
  readonly label: string;
  private readonly collector: string;
  private readonly what: string;

  constructor(url: string, signal: Signal = 'traces') {
    this.label = endpointLabel(url);
    this.collector = collectorOf(url);
    this.what = WHAT[signal];
  }

  /**
   * An attempt failed (`reason`: what went wrong, one line; `kind`: its class, e.g. `HTTP 503` or
   * `ECONNREFUSED`). Warns once per episode, and once per collector and kind: a dead collector is
   * one line, not one per signal.
   */
  failed(reason: string, kind: string = reason): void {
    if (this.failing) return;
    this.failing = true;
    const key = `otlp:${this.collector}:${kind}`;
    this.episode = { key, printed: !hasWarned(key) };
    resetWarning(`otlp:${this.label}:recovered`);
    warnOnce(
      key,
      `OTLP export to ${this.label} failed: ${oneLine(reason)}; ${this.what} are not delivered there (the app is not affected)`,
    );
  }

  /** An attempt succeeded: after a failure this exporter reported, say so once and re-arm the warning. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    const episode = this.episode;
    this.episode = null;
    if (!episode) return;
    resetWarning(episode.key);
    if (episode.printed)
      warnOnce(`otlp:${this.label}:recovered`, `OTLP export to ${this.label} recovered; ${this.what} are delivered again`);
  }
}

/**
 * At exit, the capped OTLP flush ran out of time. Unless a failure was already reported for a
 * collector in use (the usual case: refused, 503…), one accepted a request and never answered. One
 * line: with two collectors, which one was still waiting is not known here, so both are named.
 */
export function warnExitFlushTimedOut(targets: { url: string; signal: Signal }[], capMs: number): void {
  const byCollector = new Map<string, { label: string; what: string[] }>();
  for (const t of targets) {
    const c = collectorOf(t.url);
    const entry = byCollector.get(c) ?? { label: endpointLabel(t.url), what: [] };
    entry.what.push(WHAT[t.signal]);
    byCollector.set(c, entry);
  }
  // A collector that already failed (refused, 503…) is retrying: that explains the wait.
  if ([...byCollector.keys()].some((collector) => hasWarnedWithPrefix(`otlp:${collector}:`))) return;
  const silent = [...byCollector];
  const labels = silent.map(([, e]) => e.label).join(' or ');
  const what = [...new Set(silent.flatMap(([, e]) => e.what))].join(' and ');
  warnOnce(
    `otlp:${silent[0]![0]}:no answer`,
    `OTLP export to ${labels} had no answer when the app ended (exit waits at most ${capMs / 1000} s); ${what} not yet delivered there were dropped (the app is not affected)`,
  );
}

/**
 * At exit, the capped OTLP flush ran out of time while llm-otel's own thread was still busy
 * (starting, or finishing calls on a loaded machine), not waiting on a collector: no endpoint is
 * to blame, but spans it had not sent yet may be lost (it may still send some while the process
 * ends), and that must not pass in silence.
 */
export function warnExitFlushBusy(capMs: number): void {
  warnOnce(
    'otlp:exit:busy',
    `llm-otel's thread was still finishing calls when the app ended (exit waits at most ${capMs / 1000} s for OTLP); spans it had not sent by then may not be delivered (the app is not affected)`,
  );
}

/** What went wrong with one HTTP attempt, for the warning. */
export function describeHttpStatus(status: number, statusMessage: string | undefined, signal: Signal = 'traces'): string {
  const head = `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`;
  if (status === 404 && signal === 'metrics')
    return `${head} (wrong path? or nothing there takes metrics — Jaeger alone does not: OTEL_METRICS_EXPORTER=none stops them; OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/metrics appended, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as is)`;
  if (status === 404)
    return `${head} (wrong path? OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is)`;
  if (status === 401 || status === 403) return `${head} (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)`;
  return head;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset by the endpoint',
  EPIPE: 'connection closed by the endpoint',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export function describeNetworkError(e: unknown, url: string): string {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = err?.message ?? String(e);
  if (code && NETWORK[code]) return `${NETWORK[code]} (${code})`;
  // A TLS client talking to a plain-HTTP port (or the reverse) fails in the handshake.
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL') || code?.startsWith('ERR_TLS') || /SSL|TLS/.test(message)) {
    // OpenSSL's text is "…:SSL routines:<function>:<reason>:<file>:<line>"; the reason is what helps.
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
    const hint = url.startsWith('https:') ? '; is it a plain-HTTP port? then use http://' : '';
    return `TLS handshake failed (${reason})${hint}`;
  }
  return code ? `${code}: ${message}` : message;
}
