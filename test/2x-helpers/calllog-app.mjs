// Child-process app for the exporter's exit, fault and concurrency tests. It does nothing unless
// CALLLOG_APP=1 (node --test also runs every file under test/ as a test file).
//
// env: CALLLOG_DB (path), CALLLOG_MODE (normal | exit | throw | signal | late-span | hold),
//      CALLLOG_N (calls, default 100), CALLLOG_WORKER (0 = inline writer),
//      CALLLOG_PRAGMAS (JSON), CALLLOG_EXIT_BUSY_MS, CALLLOG_SAMPLE, CALLLOG_JSONL,
//      CALLLOG_HOLD_MS (mode hold: keep running this long after the calls).
// stdout: app output that must never change ("app: N calls done", "app: result 42").
import { SpanStatusCode } from '@opentelemetry/api';

if (process.env.CALLLOG_APP === '1') await main();

async function main() {
  const { CallLogSpanProcessor } = await import('../../dist/esm/exporter/index.js');
  const { makeProvider, chatAttrs } = await import('./spans.mjs');
  const env = process.env;
  const mode = env.CALLLOG_MODE ?? 'normal';
  const n = Number(env.CALLLOG_N ?? 100);
  const processor = new CallLogSpanProcessor({
    path: env.CALLLOG_DB,
    worker: env.CALLLOG_WORKER !== '0',
    ...(env.CALLLOG_PRAGMAS ? { pragmas: JSON.parse(env.CALLLOG_PRAGMAS) } : {}),
    ...(env.CALLLOG_EXIT_BUSY_MS ? { exitBusyTimeoutMs: Number(env.CALLLOG_EXIT_BUSY_MS) } : {}),
    ...(env.CALLLOG_SAMPLE ? { sampleRate: Number(env.CALLLOG_SAMPLE) } : {}),
    ...(env.CALLLOG_JSONL ? { jsonl: env.CALLLOG_JSONL } : {}),
    ...(env.CALLLOG_NO_DRAIN ? { drainOnExit: false } : {}),
    retryMinMs: 50,
    retryMaxMs: 200,
  });
  const { tracer } = makeProvider({ processor, serviceName: `app-${process.pid}` });

  // Like the SDK's signal handling: flush synchronously, then re-raise so the exit is unchanged.
  for (const sig of ['SIGTERM', 'SIGINT']) {
    const handler = () => {
      processor.flushSync();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }

  // An "awaited call": the span starts, the response takes a moment, the span ends.
  const call = async (i) => {
    const span = tracer.startSpan('chat gpt-4o-mini', { attributes: chatAttrs({ 'gen_ai.response.id': `r-${process.pid}-${i}` }) });
    await new Promise((r) => setImmediate(r));
    if (i % 10 === 9) {
      span.setAttribute('llm_otel.status', 'error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    }
    span.end();
    return 42;
  };

  let result = 0;
  for (let i = 0; i < n; i++) result = await call(i);
  process.stdout.write(`app: ${n} calls done\napp: result ${result}\n`);

  if (mode === 'exit') process.exit(7);
  if (mode === 'throw') throw new Error('app crashed on purpose');
  if (mode === 'late-span') {
    // An exit listener added after ours ends one more span and drains again (what the SDK's
    // abandon-open-spans hook does).
    process.on('exit', () => {
      tracer.startSpan('chat late', { attributes: chatAttrs({ 'gen_ai.response.id': 'late' }) }).end();
      processor.flushSync();
    });
  }
  if (mode === 'signal' || mode === 'hold') {
    process.stdout.write('app: ready\n');
    const hold = setInterval(() => {}, 1000); // the app keeps running until signalled
    if (mode === 'hold') setTimeout(() => clearInterval(hold), Number(env.CALLLOG_HOLD_MS ?? 1000));
  }
}
