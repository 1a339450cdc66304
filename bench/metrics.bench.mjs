// What llm-otel's GenAI metrics cost on the thread that finishes calls, per call and per export:
// recording one finished call into the three histograms (src/metrics/genai.ts through the SDK's
// MeterProvider, as src/metrics/pipeline.ts sets it up), and collecting + encoding one export
// (OTLP/protobuf, the SDK's serializer). For comparison, the same per-call aggregation by hand
// (a Map of attribute sets, fixed buckets): what our own histograms could save.
//
//   npm run build && node bench/metrics.bench.mjs [--calls 200000] [--models 4]

import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('calls', 200_000);
const MODELS = arg('models', 4);

let genai;
try {
  genai = await import('../dist/esm/src/metrics/genai.js');
} catch (e) {
  console.error(`llm-otel is not built (${e.message}); run \`npm run build\` first`);
  process.exit(1);
}

/** Finished calls as the finisher sees them: a record and its end attributes (a few models, some streams, some failures). */
function calls(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const model = `gpt-4o-mini-${i % MODELS}`;
    const stream = i % 3 === 0;
    const failed = i % 50 === 0;
    const started = 1_700_000_000_000 + i;
    out.push([
      {
        rec: 1,
        api: 'chat.completions',
        server: { provider: 'openai', address: 'api.openai.com', port: 443 },
        model,
        started,
        ended: started + 200 + (i % 900),
        firstChunkAt: stream ? started + 80 + (i % 200) : undefined,
      },
      failed
        ? { 'error.type': 'RateLimitError', 'llm_otel.usage_source': 'none' }
        : {
            'gen_ai.response.model': `${model}-2024-07-18`,
            'llm_otel.usage_source': 'provider',
            'gen_ai.usage.input_tokens': 20 + (i % 3000),
            'gen_ai.usage.output_tokens': 5 + (i % 700),
          },
    ]);
  }
  return out;
}

function sdkMetrics() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return { instruments: new genai.GenAiInstruments(provider.getMeter('llm-otel')), reader, provider };
}

/** The same aggregation by hand: per metric, a Map from the attribute set to count, sum, min, max, buckets. */
function handMetrics() {
  const maps = { tokens: new Map(), duration: new Map(), ttfc: new Map() };
  const add = (map, bounds, attrs, v) => {
    const key = JSON.stringify(attrs);
    let h = map.get(key);
    if (!h) map.set(key, (h = { attrs, count: 0, sum: 0, min: Infinity, max: -Infinity, buckets: new Array(bounds.length + 1).fill(0) }));
    h.count++;
    h.sum += v;
    if (v < h.min) h.min = v;
    if (v > h.max) h.max = v;
    let b = 0;
    while (b < bounds.length && v > bounds[b]) b++;
    h.buckets[b]++;
  };
  return {
    record(rec, attrs) {
      const p = genai.callPoint(rec, attrs);
      add(maps.duration, genai.SECONDS_BOUNDARIES, p.errorType ? { ...p.common, 'error.type': p.errorType } : p.common, p.duration);
      if (p.timeToFirstChunk !== undefined) add(maps.ttfc, genai.SECONDS_BOUNDARIES, p.common, p.timeToFirstChunk);
      if (p.inputTokens !== undefined)
        add(maps.tokens, genai.TOKEN_BOUNDARIES, { ...p.common, 'gen_ai.token.type': 'input' }, p.inputTokens);
      if (p.outputTokens !== undefined)
        add(maps.tokens, genai.TOKEN_BOUNDARIES, { ...p.common, 'gen_ai.token.type': 'output' }, p.outputTokens);
    },
  };
}

function timePerCall(label, record, input) {
  // Warm up on a copy, then measure the best of 5 passes.
  for (const [r, a] of input.slice(0, 20_000)) record(r, a);
  // CPU time, not wall time: on a shared machine this process is often waiting for a core.
  let best = Infinity;
  let sink = 0;
  for (let pass = 0; pass < 5; pass++) {
    const c0 = process.cpuUsage();
    for (const [r, a] of input) sink ^= record(r, a) === undefined ? 0 : 1;
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / input.length);
  }
  if (sink === 2) console.log(''); // keeps the results alive
  console.log(`${label.padEnd(52)} ${best.toFixed(2)} µs CPU/call`);
  return best;
}

const input = calls(CALLS);
console.log(`node ${process.version}, ${CALLS} calls over ${MODELS} models (a third streamed, 2 % failed); CPU time, best of 5 passes`);
const pointOnly = timePerCall('attributes of a call only (callPoint)', (r, a) => genai.callPoint(r, a), input);
const sdk = sdkMetrics();
const sdkUs = timePerCall('record through sdk-metrics (what llm-otel does)', (r, a) => sdk.instruments.record(r, a), input);
const hand = handMetrics();
const handUs = timePerCall('record into hand-made histograms (comparison)', (r, a) => hand.record(r, a), input);
console.log(`sdk-metrics over hand-made: +${(sdkUs - handUs).toFixed(2)} µs/call (the attributes alone: ${pointOnly.toFixed(2)} µs)`);

// One export: collect and encode what the calls above left (as every OTEL_METRIC_EXPORT_INTERVAL).
let collectUs = Infinity;
let encodeUs = Infinity;
let bytes = 0;
for (let i = 0; i < 20; i++) {
  const c0 = process.cpuUsage();
  const { resourceMetrics } = await sdk.reader.collect();
  const c1 = process.cpuUsage(c0);
  const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics);
  const c2 = process.cpuUsage(c0);
  collectUs = Math.min(collectUs, c1.user + c1.system);
  encodeUs = Math.min(encodeUs, c2.user + c2.system - (c1.user + c1.system));
  bytes = body.length;
}
const points = (await sdk.reader.collect()).resourceMetrics.scopeMetrics
  .flatMap((s) => s.metrics)
  .reduce((n, m) => n + m.dataPoints.length, 0);
console.log(
  `one export: collect ${collectUs.toFixed(0)} µs + encode ${encodeUs.toFixed(0)} µs CPU for ${points} data points (${bytes} bytes)`,
);
await sdk.provider.shutdown();
