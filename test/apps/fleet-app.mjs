// App of the fleet tests and benchmark (test/61–63, bench/fleet.bench.mjs): chat calls through the
// real openai SDK against a loopback OpenAI-wire server, under llm-otel/register. Prints one JSON
// line at the end: { calls, failed, pgLoaded (on the app's thread), latencies (ms per call, as the
// app saw them) }.
//
//   node --import llm-otel/register fleet-app.mjs [--calls N] [--concurrency C] [--rate R --seconds S]
//        [--nul] [--agent] [--session S] [--wait-file F] [--tag T]
// --agent: every 4th call inside withAgent('planner') (an llm_runs row).
// Environment: TEST_OPENAI_URL (…/v1).
// --wait-file: after the calls, wait (at most 60 s) until that file exists, so a test can watch the
// shipper at work before the process ends.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { withAgent, withLlmContext } from 'llm-otel';
import OpenAI from 'openai';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const flag = (name) => args.includes(`--${name}`);
const calls = Number(opt('calls', 10));
const concurrency = Number(opt('concurrency', 4));
const rate = Number(opt('rate', 0));
const seconds = Number(opt('seconds', 0));
const nul = flag('nul');
const session = opt('session', `s-${process.pid}`);
const waitFile = opt('wait-file', null);
const tag = opt('tag', 'fleet');
const agent = flag('agent');

const client = new OpenAI({ baseURL: process.env.TEST_OPENAI_URL, apiKey: 'sk-test-fleet', maxRetries: 0 });
const latencies = [];
let failed = 0;
let made = 0;

async function one(i) {
  const text = nul ? `hello\u0000world ${i}` : `hello ${i}`;
  const user = nul ? `user\u0000${i % 3}` : `user-${i % 3}`;
  const t0 = performance.now();
  try {
    await withLlmContext(
      { sessionId: `${session}-${i % 5}`, userId: user, tags: [tag], metadata: nul ? { note: 'a\u0000b' } : { n: String(i % 7) } },
      () => {
        const call = () => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: text }] });
        return agent && i % 4 === 0 ? withAgent('planner', call) : call();
      },
    );
  } catch {
    failed++;
  }
  latencies.push(performance.now() - t0);
}

if (rate > 0 && seconds > 0) {
  // Open-loop: a call every 1/rate s for `seconds`, whatever the answers take.
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight = new Set();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const p = one(made++).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
} else {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, calls) }, async () => {
      while (next < calls) await one(next++);
    }),
  );
  made = calls;
}
// Whether the PostgreSQL driver was loaded on this (the app's) thread: it must not be.
const pgLoaded = Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\/]node_modules[\\/]pg[\\/]/.test(k));
process.stdout.write(`${JSON.stringify({ calls: made, failed, pgLoaded, latencies })}\n`);
if (waitFile) {
  const until = Date.now() + 60_000;
  while (!existsSync(waitFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}
