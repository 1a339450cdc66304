// Per-call overhead of instrumenting the openai SDK (issue 2 benchmark): uninstrumented vs llm-otel
// vs the official @opentelemetry/instrumentation-openai, for non-streaming and streaming chat, in ONE
// process with paired alternating blocks (A, B, C, A, B, C, …) so drift (JIT, GC, CPU frequency)
// hits every variant alike.
//
//   npm run build && node bench/openai-overhead.bench.mjs [--rounds 40] [--block 400] [--warmup 200] [--no-content] [--no-metrics] [--in-memory] [--capture-only]
//
// Patches are global per module instance, so three separate copies of openai 6 are loaded
// (bench/.tmp/{a,b,c}/node_modules/openai): A stays plain, B is patched by llm-otel, C by the
// official instrumentation.
//
// Default: each tool as it is deployed. llm-otel through start() exactly as `register` runs it —
// content captured for the local call log (redacted, truncated), a SQLite call log (temporary
// file), OTLP/protobuf export; LLM calls are then finished on its writer thread. The official
// instrumentation as a NodeSDK would run it: BatchSpanProcessor + OTLP/protobuf exporter. Both
// export to the same loopback OTLP receiver, which (like the OpenAI server) runs in a child process
// so process.cpuUsage() counts the app's process only — which includes llm-otel's writer thread.
// Both peers are the lean ones of bench/lib/loopback-peers.mjs (recorded answers served as bytes; spans
// counted, not decoded): on a 2-core machine the peers' CPU is contention and noise for the app.
// llm-otel's GenAI metrics are on, as `register` runs them (recorded on the writer thread, sent at the
// end); `--no-metrics` turns them off (OTEL_METRICS_EXPORTER=none), to measure what they cost.
// `--in-memory`: both end in a SimpleSpanProcessor into an in-memory exporter instead (llm-otel has
// no call log then, so calls are finished on the app's thread: the cost of that path).

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metrics } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OpenAIInstrumentation as OfficialInstrumentation } from '@opentelemetry/instrumentation-openai';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
// Blocks of 400 calls (~0.35 s): work a tool does in the background for its calls (llm-otel's
// writer thread, sent every 25 ms; the official exporter's timer) then mostly lands inside that
// tool's own block. With short blocks it spills into the next variant's block and flatters whoever
// spills. Measured on the same code: 20-call blocks put llm-otel at 4–67 % of the official (an
// earlier version), 100-call blocks at 53–77 % (chat) / 71–94 % (streams), 400-call blocks at
// 114–135 % / 72–124 %.
const ROUNDS = arg('rounds', 40);
const BLOCK = arg('block', 400);
const WARMUP = arg('warmup', 200);
// llm-otel's default (what `register` does) captures content for the local call log; `--no-content`
// measures it like the official instrumentation's default, without content.
const CONTENT = !process.argv.includes('--no-content');
const IN_MEMORY = process.argv.includes('--in-memory');
const METRICS = !IN_MEMORY && !process.argv.includes('--no-metrics');

/** A loopback peer (bench/lib/loopback-peers.mjs) in a child process; resolves once it prints its URL. */
async function child(args) {
  const proc = spawn(process.execPath, [join(here, 'lib', 'loopback-peers.mjs'), ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.on('exit', () => proc.kill('SIGTERM')); // also when the benchmark itself fails
  let out = '';
  const lines = [];
  let waiting = null;
  proc.stdout.on('data', (d) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, i));
      out = out.slice(i + 1);
      if (waiting) {
        const w = waiting;
        waiting = null;
        w();
      }
    }
  });
  proc.on('exit', (c) => {
    if (c) {
      console.error(`loopback peer ${args[0]} exited with ${c}`);
      process.exit(1);
    }
  });
  const nextLine = async () => {
    while (!lines.length)
      await new Promise((r) => {
        waiting = r;
      });
    return lines.shift();
  };
  return {
    proc,
    url: await nextLine(),
    ask: async (cmd) => {
      proc.stdin.write(cmd + '\n');
      return nextLine();
    },
  };
}

// ---- three module instances of openai 6 ----
function loadCopy(name) {
  const dir = join(here, '.tmp', name);
  const target = join(dir, 'node_modules', 'openai');
  const source = join(root, 'node_modules', 'openai-v6');
  const want = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')).version;
  const have = existsSync(join(target, 'package.json')) ? JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')).version : null;
  if (have !== want) {
    mkdirSync(dirname(target), { recursive: true });
    cpSync(source, target, { recursive: true });
  }
  return createRequire(join(dir, 'bench.cjs'))('openai');
}
const modA = loadCopy('a');
const modB = loadCopy('b');
const modC = loadCopy('c');
if (modA === modB || modB === modC) throw new Error('openai copies are the same module instance');

// ---- instrument B with llm-otel, C with the official instrumentation ----
let llmOtel;
try {
  llmOtel = await import('../dist/esm/src/index.js');
} catch (e) {
  console.error(`llm-otel is not built (${e.message}); run \`npm run build\` first`);
  process.exit(1);
}
// The OTLP receiver (default mode): answers `count` with the spans received per scope.
const receiver = IN_MEMORY ? null : await child(['otlp']);
const dbDir = mkdtempSync(join(tmpdir(), 'llm-otel-bench-'));
const exporterB = new InMemorySpanExporter();
const exporterC = new InMemorySpanExporter();
const providerC = new BasicTracerProvider({
  spanProcessors: [
    IN_MEMORY ? new SimpleSpanProcessor(exporterC) : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` })),
  ],
});

// All copies are loaded before either instrumentation is enabled: their require hooks only act
// on later requires, so each copy is patched exactly by whom we patch it with below.
// llm-otel exactly as `register` runs it (its own provider: lazy span creation, cost processor),
// minus the two sinks, replaced by the same in-memory exporter the official one gets.
if (!IN_MEMORY) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url; // read by the OTLP exporter
const handleB = IN_MEMORY
  ? llmOtel.start({
      config: { db: null, otlp: false, metrics: false, captureContent: CONTENT ? 'local' : 'none' },
      spanProcessors: [new SimpleSpanProcessor(exporterB)],
      exitHooks: false,
    })
  : llmOtel.start({
      config: {
        db: join(dbDir, 'bench.db'),
        otlp: true,
        otlpProtocol: 'http/protobuf',
        captureContent: CONTENT ? 'local' : 'none',
        metrics: METRICS,
      },
      exitHooks: false,
    });
llmOtel.instrumentOpenAI(modB);
// Diagnostic: what the app thread's capture costs alone — records are dropped instead of finished,
// so nothing is exported or written (not a mode llm-otel offers; a way to split the measurement).
const CAPTURE_ONLY = process.argv.includes('--capture-only');
if (CAPTURE_ONLY) {
  const rt = globalThis[Symbol.for('llm-otel.runtime')];
  if (!rt?.offload) {
    console.error('--capture-only needs the writer thread (the default sinks)');
    process.exit(1);
  }
  rt.offload = () => true;
}

const official = new OfficialInstrumentation({ enabled: false });
official.setTracerProvider(providerC);
official.setMeterProvider(metrics.getMeterProvider()); // creates its histograms (no-op meter: what an app without metrics pays)
official.enable();
for (const def of official.getModuleDefinitions())
  def.patch(modC, JSON.parse(readFileSync(join(here, '.tmp', 'c', 'node_modules', 'openai', 'package.json'), 'utf8')).version);

// ---- the loopback OpenAI server (recorded answers), in its own process ----
const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const openaiPeer = await child(['openai', JSON.stringify(messages)]);
const baseURL = openaiPeer.url;

/** Spans each instrumentation delivered since the last reset: [llm-otel, official]. */
let seenB = 0;
let seenC = 0;
async function delivered() {
  if (IN_MEMORY) return [exporterB.getFinishedSpans().length, exporterC.getFinishedSpans().length];
  await Promise.all([handleB.forceFlush(), providerC.forceFlush()]);
  const n = JSON.parse(await receiver.ask('count'));
  const b = (n['llm-otel'] ?? 0) - seenB;
  const c = (n['@opentelemetry/instrumentation-openai'] ?? 0) - seenC;
  seenB += b;
  seenC += c;
  return [b, c];
}

const OpenAIof = (m) => m.OpenAI ?? m.default ?? m;
const clients = {
  uninstrumented: new (OpenAIof(modA))({ baseURL, apiKey: 'sk-bench', maxRetries: 0 }),
  'llm-otel': new (OpenAIof(modB))({ baseURL, apiKey: 'sk-bench', maxRetries: 0 }),
  official: new (OpenAIof(modC))({ baseURL, apiKey: 'sk-bench', maxRetries: 0 }),
};
const VARIANTS = Object.keys(clients);
const MODES = {
  'chat (non-streaming)': async (client) => {
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    if (r.choices[0].message.content !== 'Atlantic Ocean.') throw new Error('unexpected response');
  },
  'chat (streaming, include_usage)': async (client) => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let n = 0;
    for await (const chunk of s) {
      void chunk;
      n += 1;
    }
    if (n !== 7) throw new Error(`unexpected chunk count ${n}`);
  },
};

async function block(fn, client, n) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(client);
  // Work an instrumentation defers (setImmediate batches) belongs to this block, not the next one.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  const c = process.cpuUsage(c0);
  return { wallUs, cpuUs: (c.user + c.system) / n };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

const rows = [];
for (const [mode, fn] of Object.entries(MODES)) {
  for (const v of VARIANTS) for (let i = 0; i < WARMUP; i++) await fn(clients[v]);
  await delivered();
  exporterB.reset();
  exporterC.reset();
  const samples = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the starting variant each round so no variant always follows the same one.
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(r + k) % VARIANTS.length];
      samples[v].push(await block(fn, clients[v], BLOCK));
    }
  }
  const [spansB, spansC] = await delivered();
  const calls = ROUNDS * BLOCK;
  if ((!CAPTURE_ONLY && spansB !== calls) || spansC !== calls) {
    console.error(`warning: ${mode}: expected ${calls} spans per instrumented variant, got llm-otel ${spansB}, official ${spansC}`);
  }
  const base = samples.uninstrumented;
  for (const v of VARIANTS) {
    const s = samples[v];
    // Paired: each block against the baseline block of the same round.
    const addedWall = s.map((x, i) => x.wallUs - base[i].wallUs);
    const addedCpu = s.map((x, i) => x.cpuUs - base[i].cpuUs);
    rows.push({
      mode,
      variant: v,
      wallMean: mean(s.map((x) => x.wallUs)),
      wallMedian: median(s.map((x) => x.wallUs)),
      cpuMean: mean(s.map((x) => x.cpuUs)),
      cpuMedian: median(s.map((x) => x.cpuUs)),
      addedWall: median(addedWall),
      addedCpu: median(addedCpu),
      addedWallMean: mean(addedWall),
      addedCpuMean: mean(addedCpu),
      spans: v === 'llm-otel' ? spansB : v === 'official' ? spansC : 0,
      addedWallRounds: addedWall,
    });
  }
}

openaiPeer.proc.kill('SIGTERM');
await handleB.shutdown();
const metricsRequests = IN_MEMORY ? 0 : (JSON.parse(await receiver.ask('count'))['metrics requests'] ?? 0);
await providerC.shutdown();
receiver?.proc.kill('SIGTERM');
rmSync(dbDir, { recursive: true, force: true });

const header = [
  'mode',
  'variant',
  'wall µs/call mean',
  'median',
  'CPU µs/call mean',
  'median',
  'added wall (median, mean)',
  'added CPU (median, mean)',
  'spans',
];
const table = rows.map((r) => [
  r.mode,
  r.variant,
  f1(r.wallMean),
  f1(r.wallMedian),
  f1(r.cpuMean),
  f1(r.cpuMedian),
  r.variant === 'uninstrumented' ? '—' : `${f1(r.addedWall)}, ${f1(r.addedWallMean)}`,
  r.variant === 'uninstrumented' ? '—' : `${f1(r.addedCpu)}, ${f1(r.addedCpuMean)}`,
  String(r.spans),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(
  `llm-otel content capture: ${CONTENT ? 'on (register default: content kept for the local call log)' : 'off (--no-content)'}; official: its default (no content)`,
);
if (!IN_MEMORY)
  console.log(
    METRICS
      ? `llm-otel GenAI metrics: on (register default; ${metricsRequests} metrics requests received)`
      : 'llm-otel GenAI metrics: off (--no-metrics)',
  );
if (CAPTURE_ONLY) console.log("--capture-only: llm-otel records are dropped after capture (diagnostic: the app thread's share alone)");
console.log(
  IN_MEMORY
    ? 'sinks: both into an in-memory exporter (--in-memory; llm-otel finishes calls on the app thread)'
    : 'sinks: llm-otel as register runs it (SQLite call log + OTLP, calls finished on its writer thread); official with BatchSpanProcessor + OTLP; one loopback OTLP receiver',
);
console.log(
  `openai ${JSON.parse(readFileSync(join(here, '.tmp', 'a', 'node_modules', 'openai', 'package.json'), 'utf8')).version}, node ${process.version}, ${ROUNDS} rounds × ${BLOCK} calls per variant and mode (after ${WARMUP} warm-up calls each)`,
);
console.log(line(header));
for (const row of table) console.log(line(row));
console.log('');
for (const mode of Object.keys(MODES)) {
  const ours = rows.find((r) => r.mode === mode && r.variant === 'llm-otel');
  const off = rows.find((r) => r.mode === mode && r.variant === 'official');
  const ratio = (a, b) => (b > 0 ? a / b : NaN);
  // How sure: resample the rounds (each round keeps its three paired blocks together).
  const n = ours.addedWallRounds.length;
  const boots = [];
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let b = 0; b < 2000; b++) {
    const a = [],
      o = [];
    for (let i = 0; i < n; i++) {
      const k = Math.floor(rnd() * n);
      a.push(ours.addedWallRounds[k]);
      o.push(off.addedWallRounds[k]);
    }
    const r = ratio(median(a), median(o));
    if (Number.isFinite(r)) boots.push(r);
  }
  boots.sort((x, y) => x - y);
  const ci = `${f1(boots[Math.floor(0.025 * boots.length)] * 100)}–${f1(boots[Math.floor(0.975 * boots.length)] * 100)}%`;
  console.log(
    `${mode}: llm-otel added / official added — wall ${f1(ratio(ours.addedWall, off.addedWall) * 100)}% (medians; 95% bootstrap interval ${ci}), CPU ${f1(ratio(ours.addedCpu, off.addedCpu) * 100)}%; target ≤ 50%`,
  );
}
