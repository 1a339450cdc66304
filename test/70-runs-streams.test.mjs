// Runs that hand back a stream (issue 15, item 1): withAgent / withTool / withWorkflow whose
// function returns (or resolves to) an async iterable, a Node Readable or a web ReadableStream end
// when the stream is read to the end (ok), fails (error) or is abandoned (break, return(),
// cancel(), destroy(): cancelled) — not when it is returned — and the stream's producer runs in
// the run's context (calls it makes are the run's children). The app keeps its own object.
//
// Unit part: the run helpers in this process on an AsyncLocalStorageContextManager and a global
// provider with an in-memory exporter. Process part: test/apps/runs-streams-app.mjs under
// register (openai 6 against the loopback server): rows in llm_runs / llm_calls, a stream never
// read ended as cancelled at exit without holding the process, output identical without register.

import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll as after, beforeAll as before, describe, test } from 'vitest';
import { withAgent, withTool, withWorkflow } from '../dist/esm/src/api/runs.js';
import { getParentCallId } from '../dist/esm/src/context/context.js';
import { assertCleanRun, assertSinksAgree, runWithSinks } from './3x-helpers/sinks.mjs';
import { startOpenAIServer } from './helpers/openai-server.mjs';
import { runApp } from './helpers/run-app.mjs';

const exporter = new InMemorySpanExporter();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

before(() => {
  assert.equal(context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()), true);
  assert.equal(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })), true);
});

after(() => {
  context.disable();
  trace.disable();
});

/** The one finished span named `name` (or undefined while it is open). */
const span = (name) => {
  const found = exporter.getFinishedSpans().filter((s) => s.name === name);
  assert.ok(found.length <= 1, `${name} ended ${found.length} times`);
  return found[0];
};
const status = (name) => span(name)?.attributes['llm_otel.status'];
const idOf = (s) => s.spanContext().spanId;

/** An async generator recording the parent call id its body sees at each step. */
function producer(seen, n = 3, { failAt = -1, err } = {}) {
  return (async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        await sleep(1);
        seen.push(getParentCallId());
        if (i === failAt) throw err;
        yield i;
      }
    } finally {
      seen.push('finally');
    }
  })();
}

describe('unit: async iterables', () => {
  test('an async generator returned by withAgent: same object, open until read to the end, body in the run', async () => {
    exporter.reset();
    const seen = [];
    let gen;
    const out = withAgent('gen-agent', () => {
      gen = producer(seen);
      return gen;
    });
    assert.equal(out, gen, 'the app gets its own generator object');
    assert.equal(Object.prototype.toString.call(out), '[object AsyncGenerator]');
    await sleep(5);
    assert.equal(span('invoke_agent gen-agent'), undefined, 'not ended when returned');
    const got = [];
    const consumerSaw = [];
    for await (const x of out) {
      got.push(x);
      consumerSaw.push(getParentCallId());
      assert.equal(span('invoke_agent gen-agent'), undefined, 'open while being read');
    }
    assert.deepEqual(got, [0, 1, 2]);
    const s = span('invoke_agent gen-agent');
    assert.equal(status('invoke_agent gen-agent'), 'ok');
    assert.deepEqual(seen, [idOf(s), idOf(s), idOf(s), 'finally'], 'the producer runs in the run');
    assert.deepEqual(consumerSaw, [undefined, undefined, undefined], "the consumer's loop stays in its own context");
  });

  test('an async function resolving to a generator; withTool and withWorkflow alike; nested runs each end', async () => {
    exporter.reset();
    const seen = [];
    const out = await withWorkflow('wf', async () => {
      await sleep(1);
      return withAgent('inner', async () => withTool('tl', () => producer(seen, 2), { toolCallId: 'call_9' }));
    });
    assert.equal(exporter.getFinishedSpans().length, 0, 'none ended when resolved');
    const got = [];
    for await (const x of out) got.push(x);
    assert.deepEqual(got, [0, 1]);
    for (const n of ['invoke_workflow wf', 'invoke_agent inner', 'execute_tool tl']) assert.equal(status(n), 'ok', n);
    const tl = span('execute_tool tl');
    assert.equal(tl.attributes['gen_ai.tool.call.id'], 'call_9');
    assert.equal(tl.attributes['llm_otel.parent_call_id'], idOf(span('invoke_agent inner')));
    assert.deepEqual(seen, [idOf(tl), idOf(tl), 'finally'], 'the innermost run is the producer’s parent');
  });

  test('break out of the loop: cancelled (status unset), the generator’s finally ran', async () => {
    exporter.reset();
    const seen = [];
    const out = withAgent('breaker', () => producer(seen, 5));
    for await (const x of out) if (x === 1) break;
    const s = span('invoke_agent breaker');
    assert.equal(status('invoke_agent breaker'), 'cancelled');
    assert.equal(s.status.code, 0);
    assert.equal(seen.at(-1), 'finally');
  });

  test('an error mid-stream reaches the consumer unchanged and marks the run error', async () => {
    exporter.reset();
    const err = new TypeError('stream broke');
    const out = withAgent('failing', () => producer([], 5, { failAt: 2, err }));
    const got = [];
    await assert.rejects(
      (async () => {
        for await (const x of out) got.push(x);
      })(),
      (e) => e === err,
    );
    assert.deepEqual(got, [0, 1]);
    const s = span('invoke_agent failing');
    assert.deepEqual(
      [status('invoke_agent failing'), s.status.code, s.status.message, s.attributes['error.type']],
      ['error', 2, 'stream broke', 'TypeError'],
    );
  });

  test('an async iterable result object keeps its class, fields and promises (a framework’s stream result)', async () => {
    exporter.reset();
    class StreamResult {
      constructor(seen) {
        this.seen = seen;
        this.finalOutput = undefined;
        this.completed = new Promise((r) => {
          this.done = r;
        });
      }
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < 2; i++) {
          await sleep(1);
          this.seen.push(getParentCallId());
          yield `e${i}`;
        }
        this.finalOutput = 'final';
        this.done('finished');
      }
    }
    const seen = [];
    const res = await withAgent('result-obj', async () => new StreamResult(seen));
    assert.ok(res instanceof StreamResult);
    assert.deepEqual(Object.keys(res), ['seen', 'finalOutput', 'done', 'completed'], 'no field added');
    assert.equal(span('invoke_agent result-obj'), undefined);
    const got = [];
    for await (const e of res) got.push(e);
    assert.deepEqual(got, ['e0', 'e1']);
    assert.equal(res.finalOutput, 'final');
    assert.equal(await res.completed, 'finished');
    assert.equal(status('invoke_agent result-obj'), 'ok');
    assert.deepEqual(seen, [idOf(span('invoke_agent result-obj')), idOf(span('invoke_agent result-obj'))]);
  });

  test('values that are not streams end the run at once: arrays, strings, an openai-Page-like iterable', async () => {
    exporter.reset();
    withAgent('arr', () => [1, 2]);
    withAgent('str', () => 'text');
    await withAgent('page', async () => ({
      data: [1],
      getNextPage: () => null,
      hasNextPage: () => false,
      async *[Symbol.asyncIterator]() {
        yield 1;
      },
    }));
    for (const n of ['arr', 'str', 'page']) assert.equal(status(`invoke_agent ${n}`), 'ok', n);
  });

  test('a frozen async iterable cannot be wrapped: the run ends when returned, the object is untouched', () => {
    exporter.reset();
    const it = Object.freeze({ async *[Symbol.asyncIterator]() {} });
    assert.equal(
      withAgent('frozen', () => it),
      it,
    );
    assert.equal(status('invoke_agent frozen'), 'ok');
  });
});

describe('unit: Node Readable', () => {
  test('Readable.from(generator) read with for await: same Readable, open until the end, producer in the run', async () => {
    exporter.reset();
    const seen = [];
    const out = withAgent('node-from', () => Readable.from(producer(seen)));
    assert.ok(out instanceof Readable);
    await sleep(5);
    assert.equal(span('invoke_agent node-from'), undefined);
    const got = [];
    for await (const x of out) got.push(x);
    await tick();
    assert.deepEqual(got, [0, 1, 2]);
    assert.equal(status('invoke_agent node-from'), 'ok');
    const id = idOf(span('invoke_agent node-from'));
    assert.deepEqual(seen, [id, id, id, 'finally']);
  });

  test('a Readable piped to a Writable, and one read through data events, end ok', async () => {
    exporter.reset();
    const chunks = [];
    await pipeline(
      withTool('piped', () => Readable.from(['a', 'b'])),
      new Writable({
        write(c, _e, cb) {
          chunks.push(String(c));
          cb();
        },
      }),
    );
    assert.deepEqual(chunks, ['a', 'b']);
    const r = await withAgent('evented', async () => Readable.from(['x', 'y', 'z']));
    const got = [];
    await new Promise((resolve) => {
      r.on('data', (d) => got.push(d));
      r.on('end', resolve);
    });
    await tick();
    assert.deepEqual(got, ['x', 'y', 'z']);
    assert.equal(status('execute_tool piped'), 'ok');
    assert.equal(status('invoke_agent evented'), 'ok');
  });

  test('a push-based Readable: producer started in the run; break → cancelled; destroy(err) → error; an error stays unhandled for the app', async () => {
    exporter.reset();
    const seen = [];
    const out = withAgent('pusher', () => {
      const r = new Readable({ objectMode: true, read() {} });
      let i = 0;
      const t = setInterval(() => {
        seen.push(getParentCallId());
        r.push(`c${i++}`);
      }, 1);
      r.on('close', () => clearInterval(t));
      return r;
    });
    for await (const c of out) if (c === 'c2') break;
    await tick();
    assert.equal(status('invoke_agent pusher'), 'cancelled');
    assert.ok(seen.length >= 3 && seen.every((x) => x === idOf(span('invoke_agent pusher'))));

    const err = new Error('node stream failed');
    const failing = withAgent('node-fail', () => new Readable({ read() {} }));
    const caught = [];
    failing.on('error', (e) => caught.push(e));
    failing.destroy(err);
    await tick();
    assert.deepEqual(caught, [err]);
    assert.equal(status('invoke_agent node-fail'), 'error');
    assert.equal(span('invoke_agent node-fail').status.message, 'node stream failed');
    assert.equal(failing.listenerCount('error'), 1, 'no error listener of ours: an unhandled stream error still crashes the app');
  });
});

describe('unit: web ReadableStream', () => {
  const source = (seen, n = 3, failAt = -1) => {
    let i = 0;
    return new ReadableStream({
      async pull(c) {
        await sleep(1);
        seen.push(getParentCallId());
        if (i === failAt) throw new Error('web stream failed');
        if (i === n) c.close();
        else c.enqueue(i++);
      },
    });
  };

  test('for await: same stream (instanceof, subclass fields kept), open until the end, pull() in the run', async () => {
    exporter.reset();
    class Tagged extends ReadableStream {
      tag = 'mine';
    }
    const seen = [];
    let i = 0;
    const out = await withAgent('web-iter', async () => {
      const s = new Tagged({
        pull(c) {
          seen.push(getParentCallId());
          if (i === 2) c.close();
          else c.enqueue(i++);
        },
      });
      return s;
    });
    assert.ok(out instanceof Tagged && out instanceof ReadableStream);
    assert.equal(out.tag, 'mine');
    assert.equal(span('invoke_agent web-iter'), undefined);
    const got = [];
    for await (const x of out) got.push(x);
    assert.deepEqual(got, [0, 1]);
    assert.equal(status('invoke_agent web-iter'), 'ok');
    const id = idOf(span('invoke_agent web-iter'));
    assert.ok(seen.length >= 2);
    assert.deepEqual(
      seen.slice(1),
      seen.slice(1).map(() => id),
      'pulls made while reading run in the run',
    );
  });

  test('getReader() read to the end → ok; reader.cancel() → cancelled; stream.cancel() → cancelled', async () => {
    exporter.reset();
    const seen = [];
    const a = withAgent('reader', () => source(seen, 2));
    const reader = a.getReader();
    const got = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value);
    assert.deepEqual(got, [0, 1]);
    assert.equal(status('invoke_agent reader'), 'ok');
    assert.ok(seen.every((x) => x === idOf(span('invoke_agent reader'))));

    const b = withAgent('reader-cancel', () => source([], 5));
    const rb = b.getReader();
    await rb.read();
    await rb.cancel('enough');
    assert.equal(status('invoke_agent reader-cancel'), 'cancelled');

    const c = withAgent('stream-cancel', () => source([], 5));
    await c.cancel();
    assert.equal(status('invoke_agent stream-cancel'), 'cancelled');
  });

  test('break → cancelled; an error mid-stream → error, the consumer gets it', async () => {
    exporter.reset();
    const a = withAgent('web-break', () => source([], 5));
    for await (const x of a) if (x === 1) break;
    assert.equal(status('invoke_agent web-break'), 'cancelled');

    const b = withAgent('web-fail', () => source([], 5, 2));
    await assert.rejects(
      (async () => {
        for await (const _ of b);
      })(),
      /web stream failed/,
    );
    assert.equal(status('invoke_agent web-fail'), 'error');
    assert.equal(span('invoke_agent web-fail').status.message, 'web stream failed');
  });

  test('pipeThrough (the derived stream is held), pipeTo and tee end when read', async () => {
    exporter.reset();
    const derived = withAgent('through', () => source([], 2)).pipeThrough(
      new TransformStream({
        transform(c, ctl) {
          ctl.enqueue(c * 10);
        },
      }),
    );
    await sleep(5);
    assert.equal(span('invoke_agent through'), undefined, 'open until the derived stream is read');
    const got = [];
    for await (const x of derived) got.push(x);
    assert.deepEqual(got, [0, 10]);
    assert.equal(status('invoke_agent through'), 'ok');

    const sink = [];
    await withAgent('pipe-to', () => source([], 2)).pipeTo(new WritableStream({ write: (c) => void sink.push(c) }));
    assert.deepEqual(sink, [0, 1]);
    assert.equal(status('invoke_agent pipe-to'), 'ok');

    const [l, r] = withAgent('teed', () => source([], 2)).tee();
    for await (const _ of l);
    await sleep(2);
    assert.equal(span('invoke_agent teed'), undefined, 'open while one branch is unread');
    await r.cancel();
    assert.equal(status('invoke_agent teed'), 'ok', 'one branch read to the end, the other cancelled: ok');
  });
});

// ---- process level ----

describe('process: register, openai 6, the loopback server', () => {
  let server;
  let r;
  before(async () => {
    server = await startOpenAIServer();
    r = await runWithSinks('runs-streams-app.mjs', { preload: 'import', openaiUrl: server.url });
  });
  after(async () => {
    r?.cleanup();
    await server?.close();
  });
  const run = (name) => {
    const found = r.runs.filter((x) => x.name === name);
    assert.equal(found.length, 1, `${name}: ${found.length} runs`);
    return found[0];
  };
  const callsOf = (session) => r.calls.filter((c) => c.session_id === session);

  test('the app ran cleanly, exited on its own with a stream never read, and both sinks agree', () => {
    assertCleanRun(r.run, 'runs-streams app');
    assert.deepEqual(
      r.lines.map((l) => l.case),
      ['generator', 'node', 'web', 'break', 'error', 'unread'],
    );
    assertSinksAgree(r, 'runs-streams');
  });

  for (const [session, name] of [
    ['generator', 'gen-agent'],
    ['node', 'node-agent'],
    ['web', 'web-agent'],
  ]) {
    test(`${session}: the calls made while the stream is read are the run's children; the run ends after them, ok`, () => {
      const agent = run(name);
      const calls = callsOf(session);
      assert.equal(calls.length, 2);
      assert.equal(agent.status, 'ok');
      for (const c of calls) {
        assert.deepEqual([c.parent_call_id, c.agent_name, c.trace_id], [agent.span_id, name, agent.trace_id]);
      }
      const tool = run(`${session}-tool`);
      assert.deepEqual([tool.parent_call_id, tool.tool_call_id, tool.status], [agent.span_id, `call_${session}`, 'ok']);
      // Durations, not timestamps: a call's and a run's timestamps are anchored to the wall clock at
      // different moments, and a wall clock being slewed (NTP) moves one against the other.
      const within = calls.reduce((a, c) => a + c.duration_ms, 0) + tool.duration_ms;
      assert.ok(agent.duration_ms >= within, `the run (${agent.duration_ms} ms) covers its calls and tool (${within} ms)`);
      assert.ok(agent.duration_ms >= 40, `the run lasted while it was read (${agent.duration_ms} ms)`);
    });
  }

  test('break after the first call: cancelled; error mid-stream: error with the message', () => {
    assert.equal(run('break-agent').status, 'cancelled');
    assert.equal(callsOf('break').length, 1);
    assert.equal(callsOf('break')[0].parent_call_id, run('break-agent').span_id);
    const e = run('error-agent');
    assert.deepEqual([e.status, e.error_message], ['error', 'tool failed mid-stream']);
    assert.deepEqual(r.lines.find((l) => l.case === 'error').caught, 'tool failed mid-stream');
  });

  test('a stream never read: its run is ended as cancelled at exit, and did not keep the process alive', () => {
    const u = run('unread-agent');
    assert.equal(u.status, 'cancelled');
    assert.equal(callsOf('unread').length, 0, 'its producer never ran');
    assert.ok(r.run.durationMs < 15_000);
  });

  test('the app prints the same thing without register', async () => {
    const plain = await runApp('test/apps/runs-streams-app.mjs', { env: { TEST_OPENAI_URL: server.url } });
    assertCleanRun(plain, 'without register');
    assert.equal(plain.stdout, r.run.stdout);
  });
});
