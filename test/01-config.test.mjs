// src/config/config.ts: every variable of the README's "Configuration", defaults, and bad values → one warning + default.

import assert from 'node:assert/strict';
import { test } from 'vitest';
import { loadConfig } from '../dist/esm/src/config/config.js';
import { setWarnSink } from '../dist/esm/src/core/warn.js';

function withWarnings(fn) {
  const seen = [];
  setWarnSink((m) => seen.push(m));
  try {
    return { value: fn(), seen };
  } finally {
    setWarnSink((m) => process.stderr.write(`[llm-otel] ${m}\n`));
  }
}

test('defaults with an empty environment', () => {
  const { value: c, seen } = withWarnings(() => loadConfig({}));
  assert.deepEqual(seen, []);
  assert.equal(c.enabled, true);
  assert.equal(c.db, './llm-otel.db');
  assert.equal(c.captureContent, 'local');
  assert.equal(c.maxContentChars, 4096);
  assert.equal(c.redact, 'default');
  assert.deepEqual(c.redactPatterns, []);
  assert.equal(c.sampleRate, 1);
  assert.equal(c.pricesFile, null);
  assert.equal(c.jsonl, null);
  assert.equal(c.otlp, true);
  assert.equal(c.otlpProtocol, 'http/protobuf');
  assert.equal(c.streamUsage, 'off');
  assert.equal(c.vercelAi, true);
  assert.equal(c.openaiAgents, true);
});

test('every variable is read', () => {
  const c = loadConfig({
    LLM_OTEL_DB: '/tmp/x.db',
    LLM_OTEL_CAPTURE_CONTENT: 'all',
    LLM_OTEL_MAX_CONTENT_CHARS: '100',
    LLM_OTEL_REDACT: 'email,phone',
    LLM_OTEL_REDACT_PATTERNS: '["ACME-\\\\d+"]',
    LLM_OTEL_SAMPLE_RATE: '0.25',
    LLM_OTEL_PRICES: 'p.json',
    LLM_OTEL_JSONL: 'calls.jsonl',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    LLM_OTEL_STREAM_USAGE: 'inject',
  });
  assert.equal(c.db, '/tmp/x.db');
  assert.equal(c.captureContent, 'all');
  assert.equal(c.maxContentChars, 100);
  assert.deepEqual(c.redact, ['email', 'phone']);
  assert.equal(c.redactPatterns.length, 1);
  assert.equal('ACME-123'.replace(c.redactPatterns[0], 'X'), 'X');
  assert.equal(c.sampleRate, 0.25);
  assert.equal(c.pricesFile, 'p.json');
  assert.equal(c.jsonl, 'calls.jsonl');
  assert.equal(c.otlp, false);
  assert.equal(c.otlpProtocol, 'http/json');
  assert.equal(c.streamUsage, 'inject');
});

test('fleet mode: LLM_OTEL_DB=postgres:// names the fleet database; the call log becomes the spool (LLM_OTEL_SPOOL)', () => {
  const url = 'postgres://u:p@db:5432/llm';
  assert.deepEqual([loadConfig({ LLM_OTEL_DB: url }).fleetUrl, loadConfig({ LLM_OTEL_DB: url }).db], [url, './llm-otel.db']);
  assert.equal(loadConfig({ LLM_OTEL_DB: 'postgresql://db/llm' }).fleetUrl, 'postgresql://db/llm');
  assert.equal(loadConfig({ LLM_OTEL_DB: 'POSTGRES://db/llm' }).fleetUrl, 'POSTGRES://db/llm');
  assert.equal(loadConfig({ LLM_OTEL_DB: url, LLM_OTEL_SPOOL: '/var/spool/llm.db' }).db, '/var/spool/llm.db');
  assert.equal(loadConfig({ LLM_OTEL_DB: url, LLM_OTEL_SPOOL: 'off' }).db, null);
  // Without a PostgreSQL URL nothing changes: LLM_OTEL_SPOOL means nothing, a path is a path.
  assert.deepEqual(
    [loadConfig({ LLM_OTEL_DB: '/tmp/x.db', LLM_OTEL_SPOOL: '/y.db' }).db, loadConfig({ LLM_OTEL_DB: '/tmp/x.db' }).fleetUrl],
    ['/tmp/x.db', null],
  );
  assert.equal(loadConfig({}).fleetUrl, null);
  assert.equal(loadConfig({ LLM_OTEL_DB: './postgres.db' }).fleetUrl, null);
});

test('switches: off DB, disabled SDK, semconv capture flag', () => {
  assert.equal(loadConfig({ LLM_OTEL_DB: 'off' }).db, null);
  assert.equal(loadConfig({ LLM_OTEL_VERCEL_AI: 'false' }).vercelAi, false);
  assert.equal(loadConfig({ LLM_OTEL_ENABLED: 'false' }).enabled, false);
  assert.equal(loadConfig({ OTEL_SDK_DISABLED: 'true' }).enabled, false);
  assert.equal(loadConfig({ LLM_OTEL_OPENAI_AGENTS: 'false' }).openaiAgents, false);
  assert.equal(loadConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }).captureContent, 'all');
  // An explicit LLM_OTEL_CAPTURE_CONTENT wins over the semconv flag.
  assert.equal(
    loadConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true', LLM_OTEL_CAPTURE_CONTENT: 'none' }).captureContent,
    'none',
  );
});

test('bad values: one warning naming the variable and the value, then the default', () => {
  const cases = [
    ['LLM_OTEL_SAMPLE_RATE', '2', 'sampleRate', 1],
    ['LLM_OTEL_MAX_CONTENT_CHARS', 'lots', 'maxContentChars', 4096],
    ['LLM_OTEL_CAPTURE_CONTENT', 'everything', 'captureContent', 'local'],
    ['LLM_OTEL_REDACT', 'emails', 'redact', 'default'],
    ['LLM_OTEL_ENABLED', 'perhaps', 'enabled', true],
    ['LLM_OTEL_STREAM_USAGE', 'always', 'streamUsage', 'off'],
    ['LLM_OTEL_VERCEL_AI', 'sometimes', 'vercelAi', true],
    ['LLM_OTEL_OPENAI_AGENTS', 'sometimes', 'openaiAgents', true],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'otlpProtocol', 'http/protobuf'],
  ];
  for (const [name, value, field, dflt] of cases) {
    const { value: c, seen } = withWarnings(() => loadConfig({ [name]: value }));
    assert.equal(c[field], dflt, name);
    // warnOnce is process-wide; each variable is bad only once in this file, so exactly one warning.
    assert.equal(seen.length, 1, `${name}: ${seen}`);
    assert.match(seen[0], new RegExp(name));
    assert.match(seen[0], new RegExp(value));
  }
});

test('an invalid extra redaction pattern is ignored with a warning, valid ones kept', () => {
  const { value: c, seen } = withWarnings(() => loadConfig({ LLM_OTEL_REDACT_PATTERNS: '["(unclosed", "ok\\\\d"]' }));
  assert.equal(c.redactPatterns.length, 1);
  assert.equal(seen.length, 1);
  assert.match(seen[0], /LLM_OTEL_REDACT_PATTERNS/);
});

test('metrics: defaults, the exporter switches, endpoint, headers, protocol, temporality and interval', () => {
  const { value: d, seen } = withWarnings(() => loadConfig({}));
  assert.deepEqual(seen, []);
  assert.equal(d.metrics, true);
  assert.deepEqual(
    { ...d.metricsOtlp, tls: undefined },
    {
      protocol: 'http/protobuf',
      endpoint: 'http://localhost:4318/v1/metrics',
      headers: {},
      tls: undefined,
      temporality: 'cumulative',
      intervalMs: 60000,
      timeoutMs: 30000,
    },
  );
  // Unset, metrics follow traces; set, they are their own.
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).metrics, false);
  assert.equal(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'otlp' }).metrics, true);
  assert.equal(loadConfig({ OTEL_METRICS_EXPORTER: 'none' }).metrics, false);
  assert.equal(loadConfig({ OTEL_METRICS_EXPORTER: 'none' }).otlp, true);
  const c = loadConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/',
    OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'LowMemory',
    OTEL_METRIC_EXPORT_INTERVAL: '5000',
    OTEL_METRIC_EXPORT_TIMEOUT: '9000',
  });
  assert.equal(c.otlpEndpoint, 'http://collector:4318/base/v1/traces');
  assert.equal(c.metricsOtlp.endpoint, 'http://collector:4318/base/v1/metrics');
  assert.deepEqual(c.metricsOtlp.headers, { a: '1', b: '3' });
  assert.deepEqual(c.otlpHeaders, { a: '1', b: '2' });
  assert.equal(c.metricsOtlp.protocol, 'http/json');
  assert.equal(c.otlpProtocol, 'http/protobuf');
  assert.equal(c.metricsOtlp.temporality, 'delta');
  assert.equal(c.metricsOtlp.intervalMs, 5000);
  assert.equal(c.metricsOtlp.timeoutMs, 5000, 'a timeout above the interval is the interval');
  assert.equal(loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/custom' }).metricsOtlp.endpoint, 'http://m:9/custom');
  for (const [name, value, read, dflt] of [
    ['OTEL_METRIC_EXPORT_INTERVAL', '-5', (x) => x.metricsOtlp.intervalMs, 60000],
    ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'sometimes', (x) => x.metricsOtlp.temporality, 'cumulative'],
    ['OTEL_METRICS_EXPORTER', 'prometheus', (x) => x.metrics, false],
  ]) {
    const { value: bad, seen: w } = withWarnings(() => loadConfig({ [name]: value }));
    assert.equal(read(bad), dflt, name);
    assert.equal(w.length, 1, `${name}: ${w}`);
    assert.match(w[0], new RegExp(name));
    assert.match(w[0], new RegExp(value));
  }
});
