// The only module that reads environment variables (docs/architecture.md). Everything else takes explicit
// options, so tests construct classes directly and never fight import-time env reads.
// Bad values produce one warning naming the variable and the value, then the default.

import { parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { readRegularFile } from '../core/files.js';
import { errorMessage, warnOnce } from '../core/warn.js';

export type CaptureMode = 'none' | 'local' | 'all';

export interface LlmOtelConfig {
  enabled: boolean;
  /**
   * Path of the SQLite call log, or null when disabled (`LLM_OTEL_DB=off`). In fleet mode, the local
   * spool (`LLM_OTEL_SPOOL`, default ./llm-otel.db; null: `LLM_OTEL_SPOOL=off`, rows wait in memory).
   */
  db: string | null;
  /** Fleet mode: the PostgreSQL URL `LLM_OTEL_DB` names (postgres:// or postgresql://); null otherwise. */
  fleetUrl: string | null;
  captureContent: CaptureMode;
  maxContentChars: number;
  /** 'default' | 'off' | list of masker names. */
  redact: 'default' | 'off' | string[];
  redactPatterns: RegExp[];
  /**
   * Context fields stored as given, not redacted (`LLM_OTEL_KEEP_CONTEXT`): `session_id`, `user_id`,
   * `conversation_id`, `tags`, `metadata`, `metadata.<key>`.
   */
  keepContext: string[];
  sampleRate: number;
  pricesFile: string | null;
  jsonl: string | null;
  /** OTLP forwarding on/off (`OTEL_TRACES_EXPORTER=none` turns it off). */
  otlp: boolean;
  /** 'http/protobuf' (OTel default) or 'http/json'. */
  otlpProtocol: 'http/protobuf' | 'http/json';
  streamUsage: 'off' | 'inject';
  /**
   * Finish LLM calls (content, cost, span, rows, OTLP) on llm-otel's writer thread rather than the
   * app's (`LLM_OTEL_WRITER_THREAD`, default true).
   */
  writerThread: boolean;
  /** The OpenAI Agents SDK bridge (`LLM_OTEL_OPENAI_AGENTS`, default true): its runs become llm-otel runs. */
  openaiAgents: boolean;
  /**
   * Record the Vercel AI SDK's model calls, runs and tool calls from its telemetry spans
   * (`LLM_OTEL_VERCEL_AI`, default true; src/bridges/vercel-ai/).
   */
  vercelAi: boolean;
  /**
   * The LangChain.js bridge (`LLM_OTEL_LANGCHAIN`, default true): LangChain agents, graphs and tools
   * become runs when the app loads `@langchain/core` (docs/frameworks.md).
   */
  langchain: boolean;
  /**
   * OTEL_[SPAN_]ATTRIBUTE_COUNT_LIMIT / _VALUE_LENGTH_LIMIT is set: spans must go through the SDK's
   * Span, which applies those limits (otherwise the writer thread builds finished spans directly).
   */
  spanLimitsSet: boolean;
  /** The user chose where or whether spans go (an OTLP endpoint or OTEL_TRACES_EXPORTER is set). */
  otlpChosen: boolean;
  /** OTEL_TRACES_SAMPLER as given (lower case), or 'parentbased_always_on' (the OTel default). */
  tracesSampler: string;
  /** TLS files for an https OTLP endpoint (OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE / CLIENT_CERTIFICATE / CLIENT_KEY). */
  otlpTls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** The URL spans are POSTed to (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  otlpEndpoint: string;
  /** OTEL_EXPORTER_OTLP_HEADERS merged with OTEL_EXPORTER_OTLP_TRACES_HEADERS (which wins per key). */
  otlpHeaders: Record<string, string>;
  /**
   * GenAI client metrics over OTLP (`OTEL_METRICS_EXPORTER`, default `otlp`). Unset, it follows
   * traces: `OTEL_TRACES_EXPORTER=none` turns both off; set to `otlp`, metrics go even without traces.
   */
  metrics: boolean;
  /** Where metrics go and how: the same rules as traces, with METRICS in the variable names. */
  metricsOtlp: {
    protocol: 'http/protobuf' | 'http/json';
    /** OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/metrics. */
    endpoint: string;
    headers: Record<string, string>;
    tls: { ca?: Buffer; cert?: Buffer; key?: Buffer };
    /** OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: histograms are delta for `delta` and `lowmemory`. */
    temporality: 'cumulative' | 'delta';
    /** OTEL_METRIC_EXPORT_INTERVAL (ms, default 60000). */
    intervalMs: number;
    /** OTEL_METRIC_EXPORT_TIMEOUT (ms, default 30000). */
    timeoutMs: number;
  };
}

/** Certificates and keys are a few KiB; the cap only bounds what a wrong path can cost at start. */
const MAX_TLS_FILE_BYTES = 1024 * 1024;
type Signal = 'TRACES' | 'METRICS';

/** Where a signal goes, as the OTLP exporter spec says (the same rules as the OTel JS exporters). */
function otlpEndpoint(env: Env, signal: Signal): string {
  const path = `v1/${signal.toLowerCase()}`;
  const dflt = `http://localhost:4318/${path}`;
  const valid = (u: string): boolean => {
    try {
      new URL(u);
      return true;
    } catch {
      return false;
    }
  };
  const name = `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`;
  const specific = str(env, name);
  if (specific !== null) {
    if (valid(specific)) return new URL(specific).toString(); // used as is (a bare origin gets its "/")
    warnOnce(`config:${name}`, `${name}=${JSON.stringify(specific)} is not a URL; ignored`);
  }
  const base = str(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base !== null) {
    const url = `${base.endsWith('/') ? base : `${base}/`}${path}`;
    if (valid(base) && valid(url)) return url;
    warnOnce('config:OTEL_EXPORTER_OTLP_ENDPOINT', `OTEL_EXPORTER_OTLP_ENDPOINT=${JSON.stringify(base)} is not a URL; using ${dflt}`);
  }
  return dflt;
}

function otlpHeaders(env: Env, signal: Signal): Record<string, string> {
  // parseKeyPairsIntoRecord: the OTel JS parser of `k=v,k2=v2` (percent-decoded), as the SDK uses.
  return {
    ...parseKeyPairsIntoRecord(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseKeyPairsIntoRecord(env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`]),
  };
}

function otlpProtocol(env: Env, signal: Signal): 'http/protobuf' | 'http/json' {
  const name = `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
  const raw = (str(env, name) ?? str(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf').toLowerCase();
  if (raw === 'http/json' || raw === 'http/protobuf') return raw;
  const which = str(env, name) !== null ? name : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  warnOnce(
    `config:${which}`,
    `${which}=${JSON.stringify(raw)} is not supported by llm-otel (http/protobuf or http/json); using http/protobuf`,
  );
  return 'http/protobuf';
}

/** TLS files for an https endpoint (OTEL_EXPORTER_OTLP_[<SIGNAL>_]CERTIFICATE / CLIENT_CERTIFICATE / CLIENT_KEY). */
function otlpTls(env: Env, signal: Signal): LlmOtelConfig['otlpTls'] {
  const tls: LlmOtelConfig['otlpTls'] = {};
  for (const [field, suffix] of [
    ['ca', 'CERTIFICATE'],
    ['cert', 'CLIENT_CERTIFICATE'],
    ['key', 'CLIENT_KEY'],
  ] as const) {
    const name =
      env[`OTEL_EXPORTER_OTLP_${signal}_${suffix}`] !== undefined
        ? `OTEL_EXPORTER_OTLP_${signal}_${suffix}`
        : `OTEL_EXPORTER_OTLP_${suffix}`;
    const file = str(env, name);
    if (file === null) continue;
    try {
      tls[field] = readRegularFile(file, MAX_TLS_FILE_BYTES);
    } catch (e) {
      warnOnce(`config:${name}`, `${name}=${JSON.stringify(file)} cannot be read (${errorMessage(e)}); ignored`);
    }
  }
  return tls;
}

/** OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER: whether `otlp` is chosen (null: not set). */
function exporterChoice(env: Env, name: string): boolean | null {
  const raw = str(env, name);
  if (raw === null) return null;
  const list = raw
    .toLowerCase()
    .split(',')
    .map((s) => s.trim());
  if (list.includes('none')) return false;
  if (list.includes('otlp')) return true;
  warnOnce(`config:${name}`, `${name}=${JSON.stringify(env[name])}: llm-otel only forwards with "otlp"; OTLP forwarding is off`);
  return false;
}

type Env = Record<string, string | undefined>;

function bool(env: Env, name: string, dflt: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  warnOnce(`config:${name}`, `${name}=${JSON.stringify(raw)} is not a boolean; using ${dflt}`);
  return dflt;
}

function num(env: Env, name: string, dflt: number, ok: (n: number) => boolean, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || !ok(n)) {
    warnOnce(`config:${name}`, `${name}=${JSON.stringify(raw)} is not ${what}; using ${dflt}`);
    return dflt;
  }
  return n;
}

function str(env: Env, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? null : raw.trim();
}

/** A PostgreSQL connection URL (fleet mode) rather than a file path. */
export function isPostgresUrl(v: string): boolean {
  return /^postgres(ql)?:\/\//i.test(v.trim());
}

export const MASKER_NAMES = ['email', 'phone', 'api_key', 'card'] as const;

export const CONTEXT_FIELD_NAMES = ['session_id', 'user_id', 'conversation_id', 'tags', 'metadata'] as const;

/** LLM_OTEL_KEEP_CONTEXT: a comma list of context fields (or `all`); unknown names are ignored with a warning. */
function keepContextList(env: Env): string[] {
  const raw = str(env, 'LLM_OTEL_KEEP_CONTEXT');
  if (raw === null) return [];
  const out: string[] = [];
  const unknown: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    const lower = name.toLowerCase();
    if (lower === 'all') out.push(...CONTEXT_FIELD_NAMES);
    else if ((CONTEXT_FIELD_NAMES as readonly string[]).includes(lower)) out.push(lower);
    // A metadata key is the app's own name: its case is kept.
    else if (lower.startsWith('metadata.') && name.length > 'metadata.'.length) out.push(`metadata.${name.slice('metadata.'.length)}`);
    else unknown.push(name);
  }
  if (unknown.length > 0) {
    warnOnce(
      'config:LLM_OTEL_KEEP_CONTEXT',
      `LLM_OTEL_KEEP_CONTEXT=${JSON.stringify(raw)} names unknown fields (${unknown.join(', ')}); known: all, ${CONTEXT_FIELD_NAMES.join(', ')}, metadata.<key>; those are ignored`,
    );
  }
  return [...new Set(out)];
}

export function loadConfig(env: Env = process.env): LlmOtelConfig {
  const enabled = bool(env, 'LLM_OTEL_ENABLED', true) && !bool(env, 'OTEL_SDK_DISABLED', false);

  const dbRaw = str(env, 'LLM_OTEL_DB');
  const off = (v: string) => ['off', 'none', 'false', '0'].includes(v.toLowerCase());
  const fleetUrl = dbRaw !== null && isPostgresUrl(dbRaw) ? dbRaw : null;
  // In fleet mode calls still go to a local SQLite file first: the spool the shipper reads.
  const spoolRaw = str(env, 'LLM_OTEL_SPOOL');
  const db =
    fleetUrl !== null
      ? spoolRaw === null
        ? './llm-otel.db'
        : off(spoolRaw)
          ? null
          : spoolRaw
      : dbRaw === null
        ? './llm-otel.db'
        : off(dbRaw)
          ? null
          : dbRaw;

  let captureContent: CaptureMode = 'local';
  const cap = str(env, 'LLM_OTEL_CAPTURE_CONTENT');
  if (cap !== null) {
    const v = cap.toLowerCase();
    if (v === 'local' || v === 'all' || v === 'none') captureContent = v;
    else
      warnOnce(
        'config:LLM_OTEL_CAPTURE_CONTENT',
        `LLM_OTEL_CAPTURE_CONTENT=${JSON.stringify(cap)} is not one of local|all|none; using local`,
      );
  } else if (bool(env, 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', false)) {
    captureContent = 'all';
  }

  const maxContentChars = num(env, 'LLM_OTEL_MAX_CONTENT_CHARS', 4096, (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer');

  let redact: LlmOtelConfig['redact'] = 'default';
  const red = str(env, 'LLM_OTEL_REDACT');
  if (red !== null) {
    const v = red.toLowerCase();
    if (v === 'default' || v === 'off') redact = v;
    else {
      const names = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = names.filter((n) => !(MASKER_NAMES as readonly string[]).includes(n));
      if (unknown.length > 0 || names.length === 0) {
        warnOnce(
          'config:LLM_OTEL_REDACT',
          `LLM_OTEL_REDACT=${JSON.stringify(red)} names unknown maskers (${unknown.join(', ')}); known: default, off, ${MASKER_NAMES.join(', ')}; using default`,
        );
      } else redact = names;
    }
  }

  const redactPatterns: RegExp[] = [];
  const pats = env.LLM_OTEL_REDACT_PATTERNS;
  if (pats !== undefined && pats.trim() !== '') {
    // A JSON array of strings, or a comma-free single pattern.
    let list: unknown = null;
    try {
      list = JSON.parse(pats);
    } catch {
      list = [pats];
    }
    if (!Array.isArray(list)) list = [pats];
    for (const p of list as unknown[]) {
      try {
        redactPatterns.push(new RegExp(String(p), 'g'));
      } catch {
        warnOnce(
          `config:LLM_OTEL_REDACT_PATTERNS:${p}`,
          `LLM_OTEL_REDACT_PATTERNS has an invalid regular expression ${JSON.stringify(p)}; ignored`,
        );
      }
    }
  }

  const keepContext = keepContextList(env);

  const sampleRate = num(env, 'LLM_OTEL_SAMPLE_RATE', 1, (n) => n >= 0 && n <= 1, 'a number between 0 and 1');

  const otlp = exporterChoice(env, 'OTEL_TRACES_EXPORTER') ?? true;
  const metrics = exporterChoice(env, 'OTEL_METRICS_EXPORTER') ?? otlp;
  const temporalityRaw = (str(env, 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE') ?? 'cumulative').toLowerCase();
  if (!['cumulative', 'delta', 'lowmemory'].includes(temporalityRaw)) {
    warnOnce(
      'config:OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=${JSON.stringify(temporalityRaw)} is not one of cumulative|delta|lowmemory; using cumulative`,
    );
  }
  const positiveMs = (n: number) => Number.isInteger(n) && n > 0;
  const intervalMs = num(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60000, positiveMs, 'a positive integer (milliseconds)');

  let streamUsage: LlmOtelConfig['streamUsage'] = 'off';
  const su = str(env, 'LLM_OTEL_STREAM_USAGE');
  if (su !== null) {
    if (su.toLowerCase() === 'inject') streamUsage = 'inject';
    else if (su.toLowerCase() !== 'off')
      warnOnce('config:LLM_OTEL_STREAM_USAGE', `LLM_OTEL_STREAM_USAGE=${JSON.stringify(su)} is not one of off|inject; using off`);
  }

  return {
    enabled,
    otlpTls: otlpTls(env, 'TRACES'),
    otlpEndpoint: otlpEndpoint(env, 'TRACES'),
    otlpHeaders: otlpHeaders(env, 'TRACES'),
    metrics,
    metricsOtlp: {
      protocol: metrics ? otlpProtocol(env, 'METRICS') : 'http/protobuf',
      endpoint: otlpEndpoint(env, 'METRICS'),
      headers: otlpHeaders(env, 'METRICS'),
      tls: metrics ? otlpTls(env, 'METRICS') : {},
      temporality: temporalityRaw === 'delta' || temporalityRaw === 'lowmemory' ? 'delta' : 'cumulative',
      intervalMs,
      // The SDK's reader clamps a timeout above the interval to the interval.
      timeoutMs: Math.min(num(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30000, positiveMs, 'a positive integer (milliseconds)'), intervalMs),
    },
    otlpChosen: ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_TRACES_EXPORTER'].some(
      (n) => str(env, n) !== null,
    ),
    tracesSampler: (str(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase(),
    db,
    fleetUrl,
    captureContent,
    maxContentChars,
    redact,
    redactPatterns,
    keepContext,
    sampleRate,
    pricesFile: str(env, 'LLM_OTEL_PRICES'),
    jsonl: str(env, 'LLM_OTEL_JSONL'),
    otlp,
    otlpProtocol: otlpProtocol(env, 'TRACES'),
    streamUsage,
    writerThread: bool(env, 'LLM_OTEL_WRITER_THREAD', true),
    vercelAi: bool(env, 'LLM_OTEL_VERCEL_AI', true),
    openaiAgents: bool(env, 'LLM_OTEL_OPENAI_AGENTS', true),
    langchain: bool(env, 'LLM_OTEL_LANGCHAIN', true),
    spanLimitsSet: [
      'OTEL_ATTRIBUTE_COUNT_LIMIT',
      'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
      'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
      'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    ].some((k) => (env[k] ?? '').trim() !== ''),
  };
}
