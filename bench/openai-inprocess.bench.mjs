// Per-call CPU cost of the instrumentation without any network: the real openai 6 SDK with an
// in-memory `fetch` that answers a recorded-shape response, so nothing but the client's own work is
// measured. Each variant runs in its own process (patches and the context manager are global), and
// each (variant, mode) is run several times; the minimum CPU µs/call is reported, the statistic least
// disturbed by other load on the machine. Complements openai-overhead.bench.mjs (loopback HTTP).
//
//   npm run build && node bench/openai-inprocess.bench.mjs [--runs 4] [--calls 15000] [--variants plain,llm-otel-register,…]
//
// Variants: plain SDK; llm-otel through start() exactly as `register` runs it minus the two sinks
// (content on / off); the official @opentelemetry/instrumentation-openai with the AsyncLocalStorage
// context manager a NodeSDK would install — these end in an in-memory exporter. And each tool with
// its real sinks: `llm-otel-register` (SQLite call log in a temporary file + OTLP/protobuf; calls
// finished on the writer thread) and `official-otlp` (BatchSpanProcessor + OTLP/protobuf), both
// sending to one loopback OTLP receiver in a child process. The loop never waits, so its wall time
// per call is the app thread's cost (CPU also counts llm-otel's writer thread, flushed before it is
// read). `llm-otel-register` sends its GenAI metrics as `register` does; `llm-otel-register-no-metrics`
// is the same with OTEL_METRICS_EXPORTER=none: the difference is what the metrics cost.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

async function child(variant, mode, calls) {
  const { metrics, context } = await import('@opentelemetry/api');
  const { SimpleSpanProcessor, InMemorySpanExporter, BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  const dir = join(here, '.tmp', 'inproc');
  const target = join(dir, 'node_modules', 'openai');
  if (!existsSync(join(target, 'package.json'))) {
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(here, '..', 'node_modules', 'openai-v6'), target, { recursive: true });
  }
  const mod = createRequire(join(dir, 'x.cjs'))('openai');
  const exp = new InMemorySpanExporter();
  let handle = null;
  if (variant.startsWith('llm-otel-register')) {
    const llm = await import('../dist/esm/src/index.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    handle = llm.start({
      config: {
        db: join(mkdtempSync(join(tmpdir(), 'llm-otel-inproc-')), 'bench.db'),
        otlp: true,
        otlpProtocol: 'http/protobuf',
        captureContent: 'local',
        metrics: variant === 'llm-otel-register',
      },
      exitHooks: false,
    });
    llm.instrumentOpenAI(mod);
  } else if (variant === 'official-otlp') {
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
    const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const i = new OpenAIInstrumentation({ enabled: false });
    i.setTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())] }));
    i.setMeterProvider(metrics.getMeterProvider());
    i.enable();
    for (const d of i.getModuleDefinitions()) d.patch(mod, '6');
  } else if (variant.startsWith('llm-otel')) {
    const llm = await import('../dist/esm/src/index.js');
    llm.start({
      config: { db: null, otlp: false, metrics: false, captureContent: variant === 'llm-otel' ? 'local' : 'none' },
      spanProcessors: [new SimpleSpanProcessor(exp)],
      exitHooks: false,
    });
    llm.instrumentOpenAI(mod);
  } else if (variant === 'official') {
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { OpenAIInstrumentation } = await import('@opentelemetry/instrumentation-openai');
    const i = new OpenAIInstrumentation({ enabled: false });
    i.setTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exp)] }));
    i.setMeterProvider(metrics.getMeterProvider());
    i.enable();
    for (const d of i.getModuleDefinitions()) d.patch(mod, '6');
  }
  const json = JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Atlantic Ocean.', refusal: null }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 22, completion_tokens: 3, total_tokens: 25 },
    service_tier: 'default',
    system_fingerprint: 'fp_1',
  });
  const chunk = (delta, fr, extra = '') =>
    `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":${delta},"finish_reason":${fr}}]${extra}}\n\n`;
  const sse =
    chunk('{"role":"assistant","content":""}', 'null') +
    ['Atlantic', ' Ocean', '.'].map((t) => chunk(`{"content":"${t}"}`, 'null')).join('') +
    chunk('{}', '"stop"') +
    'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":22,"completion_tokens":3,"total_tokens":25}}\n\ndata: [DONE]\n\n';
  const fetch = async () =>
    new Response(mode === 'stream' ? sse : json, {
      status: 200,
      headers: { 'content-type': mode === 'stream' ? 'text/event-stream' : 'application/json', 'x-request-id': 'req_1' },
    });
  const client = new mod.OpenAI({ apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1', fetch, maxRetries: 0 });
  const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
  const one =
    mode === 'stream'
      ? async () => {
          const s = await client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages,
            stream: true,
            stream_options: { include_usage: true },
          });
          for await (const x of s) void x;
        }
      : async () => {
          await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
        };
  const tick = () => new Promise((r) => setImmediate(r));
  for (let i = 0; i < 3000; i++) {
    await one();
    if (i % 500 === 0) exp.reset();
  }
  await tick();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) {
    await one();
    if (i % 500 === 0) exp.reset();
  }
  await tick(); // work deferred to setImmediate belongs to the measurement
  const wall = ((performance.now() - t0) * 1000) / calls;
  // The writer thread's share: what it still has to finish and send belongs to the measurement.
  // (llm-otel's sockets and thread never hold the process: a ref'd timer keeps it alive meanwhile.)
  if (handle) {
    const alive = setInterval(() => {}, 1000);
    await handle.forceFlush();
    clearInterval(alive);
  }
  const cu = process.cpuUsage(c0);
  console.log(JSON.stringify({ wall, cpu: (cu.user + cu.system) / calls }));
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  const runs = arg('runs', 4);
  const calls = arg('calls', 15000);
  const all = [
    'plain',
    'llm-otel',
    'llm-otel-no-content',
    'official',
    'llm-otel-register',
    'llm-otel-register-no-metrics',
    'official-otlp',
  ];
  const only = process.argv.indexOf('--variants');
  // A subset (e.g. the two register variants, for the cost of metrics alone) always keeps `plain`.
  const variants = only >= 0 ? ['plain', ...process.argv[only + 1].split(',').filter((v) => v !== 'plain' && all.includes(v))] : all;
  const has = (...vs) => vs.every((v) => variants.includes(v));
  // One OTLP receiver for the `-register` / `-otlp` variants (their children read the endpoint from the environment).
  const { spawn } = await import('node:child_process');
  const rx = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { startOtlpReceiver } from './test/helpers/otlp-receiver.mjs'; const rx = await startOtlpReceiver(); console.log(rx.url);",
    ],
    { cwd: join(here, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  process.on('exit', () => rx.kill('SIGTERM'));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = await new Promise((resolve) => rx.stdout.once('data', (d) => resolve(String(d).trim())));
  for (const mode of ['chat', 'stream']) {
    const best = {};
    for (let r = 0; r < runs; r++) {
      for (const v of variants) {
        const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', v, mode, String(calls)], { encoding: 'utf8' });
        if (out.status !== 0) {
          console.error(out.stderr);
          process.exit(1);
        }
        const { cpu, wall } = JSON.parse(out.stdout.trim().split('\n').pop());
        best[v] = { cpu: Math.min(best[v]?.cpu ?? Infinity, cpu), wall: Math.min(best[v]?.wall ?? Infinity, wall) };
      }
    }
    const base = best.plain;
    console.log(`${mode}: min over ${runs} runs × ${calls} calls (µs/call; added over plain)`);
    for (const v of variants)
      console.log(
        `  ${v.padEnd(20)} CPU ${best[v].cpu.toFixed(1).padStart(7)} (+${(best[v].cpu - base.cpu).toFixed(1)})   wall ${best[v].wall.toFixed(1).padStart(7)} (+${(best[v].wall - base.wall).toFixed(1)})`,
      );
    const pct = (a, b, k) => (((best[a][k] - base[k]) / (best[b][k] - base[k])) * 100).toFixed(0);
    if (has('llm-otel', 'official'))
      console.log(
        `  in-memory:   llm-otel added / official added: CPU ${pct('llm-otel', 'official', 'cpu')} %, wall ${pct('llm-otel', 'official', 'wall')} %`,
      );
    if (has('llm-otel-register', 'official-otlp'))
      console.log(
        `  real sinks:  llm-otel-register added / official-otlp added: app-thread wall ${pct('llm-otel-register', 'official-otlp', 'wall')} %, process CPU ${pct('llm-otel-register', 'official-otlp', 'cpu')} %`,
      );
    if (has('llm-otel-register', 'llm-otel-register-no-metrics')) {
      const on = best['llm-otel-register'];
      const off = best['llm-otel-register-no-metrics'];
      console.log(
        `  GenAI metrics (register with − without): process CPU ${(on.cpu - off.cpu).toFixed(1)} µs/call, app-thread wall ${(on.wall - off.wall).toFixed(1)} µs/call`,
      );
    }
  }
  rx.kill('SIGTERM');
}
