// Whether spans reach the OTLP endpoint, told to the user once: the SDK's exporters report
// failures only through `diag`, which prints nothing unless the app set up a diag logger, so a dead
// collector, a wrong path or a bad auth header would otherwise lose every span in silence.
//
// One warning per endpoint and failure episode, keyed by the endpoint: both threads that export
// (the app's, the writer's) share the key through warn.ts, so the user sees one line whichever
// thread noticed first; a note when exports succeed again re-arms it.

import { hasWarned, resetWarning, warnOnce } from '../core/warn.js';

/** The endpoint as it is safe to print: no user:password, no query (tokens live there too). */
export function endpointLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

const key = (label: string): string => `otlp:${label}`;

/** One line, bounded: error texts from the network can be long or multi-line. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export class ExportHealth {
  private failing = false;
  readonly label: string;

  constructor(url: string) {
    this.label = endpointLabel(url);
  }

  /** An attempt failed (`reason`: what went wrong, one line). Warns once per episode. */
  failed(reason: string): void {
    if (this.failing) return;
    this.failing = true;
    resetWarning(`${key(this.label)}:recovered`);
    warnOnce(
      key(this.label),
      `OTLP export to ${this.label} failed: ${oneLine(reason)}; spans are not delivered there (the app is not affected)`,
    );
  }

  /** An attempt succeeded: after a failure, say so once and re-arm the warning. */
  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    resetWarning(key(this.label));
    warnOnce(`${key(this.label)}:recovered`, `OTLP export to ${this.label} recovered; spans are delivered again`);
  }
}

/**
 * At exit, the capped OTLP flush ran out of time. Unless a failure was already reported for this
 * endpoint (the usual case: refused, 503…), the endpoint accepted the request and never answered.
 */
export function warnExitFlushTimedOut(url: string, capMs: number): void {
  const label = endpointLabel(url);
  if (hasWarned(key(label))) return;
  warnOnce(
    key(label),
    `OTLP export to ${label} had no answer when the app ended (exit waits at most ${capMs / 1000} s); spans not yet delivered there were dropped (the app is not affected)`,
  );
}

/** What went wrong with one HTTP attempt, for the warning. */
export function describeHttpStatus(status: number, statusMessage: string | undefined): string {
  const head = `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`;
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
