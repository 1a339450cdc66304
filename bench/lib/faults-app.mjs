// The app that bench/faults.bench.mjs runs in a child process, with or without
// `--import llm-otel/register`: the real openai SDK (node_modules/openai) against the loopback
// OpenAI-wire server named by FAULTS_OPENAI_URL. What it does is the first argument:
//
//   loop <calls>                     awaited chat calls one after another, as fast as it can; one
//                                    line per finished call: "<count> <ms since the loop began>"
//   streams <rounds> <concurrency>   rounds of <concurrency> streaming chat calls at once, each
//                                    fully consumed; memory sampled (see below)
//   spin <seconds>                   awaited chat calls for <seconds>; memory sampled
//   exit <calls> <lingerMs>          <calls> awaited calls, spread over about <lingerMs>, then
//                                    "last <epoch ms>" and nothing more: the process ends by itself
//
// Memory samples ("mem <ms> <rss> <heapUsed> <heapTotal> <external> <arrayBuffers>", bytes) are
// taken every FAULTS_SAMPLE_MS (default 2000) from inside the app, after each round of streams,
// and once more at the end; with --expose-gc each timed sample is followed by a full collection and
// "retained <ms> <heapUsed>".

import OpenAI from 'openai';

const client = new OpenAI({ baseURL: process.env.FAULTS_OPENAI_URL, apiKey: 'sk-bench-faults', maxRetries: 0 });
const messages = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const out = (line) => process.stdout.write(line + '\n'); // synchronous for pipes and files on Linux

async function chat() {
  const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
  if (r.choices[0].message.content !== 'Atlantic Ocean.') throw new Error('unexpected response');
}

async function stream() {
  const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
  let text = '';
  for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
  if (text !== 'South Atlantic Ocean.') throw new Error(`unexpected stream text ${JSON.stringify(text)}`);
}

const t0 = performance.now();
const since = () => (performance.now() - t0).toFixed(1);

function sampleMemory() {
  const m = process.memoryUsage();
  out(`mem ${since()} ${m.rss} ${m.heapUsed} ${m.heapTotal} ${m.external} ${m.arrayBuffers}`);
}
/** With --expose-gc: the heap this thread still holds after a full collection (what a leak grows). */
function sampleRetained() {
  if (typeof globalThis.gc !== 'function') return;
  globalThis.gc();
  out(`retained ${since()} ${process.memoryUsage().heapUsed}`);
}
function startSampling() {
  sampleMemory();
  const timer = setInterval(
    () => {
      sampleMemory();
      sampleRetained();
    },
    Number(process.env.FAULTS_SAMPLE_MS ?? 2000),
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    sampleMemory();
    sampleRetained();
  };
}

const [what, a, b] = process.argv.slice(2);
if (what === 'loop') {
  const n = Number(a);
  for (let i = 1; i <= n; i++) {
    await chat();
    out(`${i} ${since()}`);
  }
} else if (what === 'streams') {
  const rounds = Number(a);
  const concurrency = Number(b);
  const stop = startSampling();
  let calls = 0;
  for (let r = 0; r < rounds; r++) {
    await Promise.all(Array.from({ length: concurrency }, stream));
    calls += concurrency;
    sampleMemory(); // and after each round
  }
  stop();
  out(`calls ${calls} ${since()}`);
} else if (what === 'spin') {
  const ms = Number(a) * 1000;
  const stop = startSampling();
  let calls = 0;
  while (performance.now() - t0 < ms) {
    await chat();
    calls++;
  }
  stop();
  out(`calls ${calls} ${since()}`);
} else if (what === 'exit') {
  const n = Number(a);
  const gap = Number(b) / n;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await chat();
    const rest = gap - (performance.now() - started);
    if (rest > 1) await new Promise((r) => setTimeout(r, rest));
  }
  out(`last ${(performance.timeOrigin + performance.now()).toFixed(1)}`);
} else {
  console.error('usage: faults-app.mjs loop <calls> | streams <rounds> <concurrency> | spin <seconds> | exit <calls> <lingerMs>');
  process.exit(2);
}
