// Unit (issue 4): mergeLlmContext / getLlmContext / withLlmContext and the run helpers on an
// AsyncLocalStorageContextManager installed by this test (no register): sync and async functions,
// timers, microtasks, Promise.all, event emitters, concurrent "requests" isolation, baggage
// fallback and `propagate`, and the run spans' parent_call_id chain (global tracer provider with an
// in-memory exporter, since nothing was started).

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll as after, beforeAll as before, test } from 'vitest';
import { withAgent, withTool, withWorkflow } from '../dist/esm/src/api/runs.js';
import { getLlmContext, getParentCallId, mergeLlmContext, withLlmContext } from '../dist/esm/src/context/context.js';

const exporter = new InMemorySpanExporter();
let manager;

before(() => {
  manager = new AsyncLocalStorageContextManager().enable();
  assert.equal(context.setGlobalContextManager(manager), true);
  assert.equal(trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })), true);
});

after(() => {
  context.disable();
  trace.disable();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bag = (entries) => {
  let b = propagation.createBaggage();
  for (const [k, v] of Object.entries(entries)) b = b.setEntry(k, { value: v });
  return propagation.setBaggage(ROOT_CONTEXT, b);
};

// ---- mergeLlmContext ----

test('merge: inner wins per key; tags united in order without duplicates; metadata merged per key', () => {
  const outer = {
    sessionId: 's1',
    userId: 'u1',
    agentName: 'a1',
    conversationId: 'c1',
    tags: ['a', 'b'],
    metadata: { tenant: 't', plan: 'free' },
  };
  const inner = { userId: 'u2', conversationId: 'c2', tags: ['b', 'c', 'a', 'd'], metadata: { plan: 'pro', region: 'eu' } };
  assert.deepEqual(mergeLlmContext(outer, inner), {
    sessionId: 's1',
    userId: 'u2',
    agentName: 'a1',
    conversationId: 'c2',
    tags: ['a', 'b', 'c', 'd'],
    metadata: { tenant: 't', plan: 'pro', region: 'eu' },
  });
});

test('merge: undefined, null, empty string and empty tags never erase outer values; inputs are not mutated', () => {
  const outer = { sessionId: 's1', userId: 'u1', tags: ['a'], metadata: { k: 'v' } };
  const frozen = structuredClone(outer);
  const inner = { sessionId: undefined, userId: '', agentName: null, tags: [], metadata: {} };
  assert.deepEqual(mergeLlmContext(outer, inner), { sessionId: 's1', userId: 'u1', tags: ['a'], metadata: { k: 'v' } });
  assert.deepEqual(outer, frozen);
  const merged = mergeLlmContext(outer, { tags: ['b'], metadata: { x: 'y' } });
  merged.tags.push('z');
  merged.metadata.q = 1;
  assert.deepEqual(outer, frozen, 'the merged result shares no arrays/objects with the outer context');
});

test('merge: no outer context; non-string ids are stringified; empty tag entries dropped', () => {
  assert.deepEqual(mergeLlmContext(undefined, { sessionId: 42, tags: ['x', '', 'x'] }), { sessionId: '42', tags: ['x'] });
  assert.deepEqual(mergeLlmContext(undefined, {}), {});
});

// ---- getLlmContext ----

test('getLlmContext: {} outside any scope; upstream baggage session.id / user.id as fallback; own values win per key', () => {
  assert.deepEqual(getLlmContext(ROOT_CONTEXT), {});
  const upstream = bag({ 'session.id': 'b-s', 'user.id': 'b-u', tenant: 'acme' });
  assert.deepEqual(getLlmContext(upstream), { sessionId: 'b-s', userId: 'b-u' });
  context.with(upstream, () => {
    assert.deepEqual(getLlmContext(), { sessionId: 'b-s', userId: 'b-u' });
    withLlmContext({ userId: 'own-u', tags: ['t'] }, () => {
      assert.deepEqual(getLlmContext(), { sessionId: 'b-s', userId: 'own-u', tags: ['t'] });
    });
  });
  assert.deepEqual(getLlmContext(bag({ 'session.id': '' })), {}, 'an empty baggage value is no value');
});

// ---- withLlmContext ----

test('withLlmContext: sync fn returns its value; the scope ends with the call; throws rethrown unchanged', () => {
  const obj = {};
  assert.equal(
    withLlmContext({ sessionId: 's' }, () => {
      assert.equal(getLlmContext().sessionId, 's');
      return obj;
    }),
    obj,
  );
  assert.deepEqual(getLlmContext(), {});
  const err = new TypeError('nope');
  assert.throws(
    () =>
      withLlmContext({ sessionId: 's' }, () => {
        throw err;
      }),
    (e) => e === err,
  );
  assert.deepEqual(getLlmContext(), {});
  assert.equal(
    withLlmContext(null, () => 'ran'),
    'ran',
    'bad attributes never stop the function',
  );
  assert.equal(
    withLlmContext({ tags: 'not-an-array', metadata: 5 }, () => 'ran'),
    'ran',
  );
});

test('withLlmContext: async fn — survives await, setTimeout, setImmediate, nextTick, queueMicrotask, Promise.all', async () => {
  const seen = [];
  const p = withLlmContext({ sessionId: 'async', userId: 'u' }, async () => {
    await sleep(2);
    seen.push(['await', getLlmContext().sessionId]);
    await new Promise((r) =>
      setTimeout(() => {
        seen.push(['setTimeout', getLlmContext().sessionId]);
        r();
      }, 1),
    );
    await new Promise((r) =>
      setImmediate(() => {
        seen.push(['setImmediate', getLlmContext().sessionId]);
        r();
      }),
    );
    await new Promise((r) =>
      process.nextTick(() => {
        seen.push(['nextTick', getLlmContext().sessionId]);
        r();
      }),
    );
    await new Promise((r) =>
      queueMicrotask(() => {
        seen.push(['queueMicrotask', getLlmContext().sessionId]);
        r();
      }),
    );
    const all = await Promise.all(
      [1, 2, 3].map(async (n) => {
        await sleep(n);
        return getLlmContext().sessionId;
      }),
    );
    seen.push(['Promise.all', ...all]);
    return 'done';
  });
  assert.ok(p instanceof Promise);
  assert.deepEqual(getLlmContext(), {}, 'the caller is not inside the scope');
  assert.equal(await p, 'done');
  assert.deepEqual(seen, [
    ['await', 'async'],
    ['setTimeout', 'async'],
    ['setImmediate', 'async'],
    ['nextTick', 'async'],
    ['queueMicrotask', 'async'],
    ['Promise.all', 'async', 'async', 'async'],
  ]);
  const err = new Error('async boom');
  await assert.rejects(
    withLlmContext({ sessionId: 'x' }, async () => {
      await sleep(1);
      throw err;
    }),
    (e) => e === err,
  );
});

test('withLlmContext: an EventEmitter listener registered outside runs with the emitter’s context', async () => {
  const bus = new EventEmitter();
  const got = [];
  bus.on('e', () => got.push(getLlmContext().sessionId));
  withLlmContext({ sessionId: 'emit-1' }, () => bus.emit('e'));
  await withLlmContext({ sessionId: 'emit-2' }, async () => {
    await sleep(1);
    bus.emit('e');
  });
  bus.emit('e');
  assert.deepEqual(got, ['emit-1', 'emit-2', undefined]);
});

test('withLlmContext: 100 concurrent requests with random delays never see each other’s values', async () => {
  const requests = Array.from({ length: 100 }, (_, i) =>
    withLlmContext({ sessionId: `s-${i}`, userId: `u-${i % 9}`, tags: [`t-${i}`] }, async () => {
      const seen = [];
      for (let k = 0; k < 4; k++) {
        await sleep(Math.floor(Math.random() * 4));
        const inner = await withLlmContext({ metadata: { k: String(k) } }, async () => {
          await null;
          return getLlmContext();
        });
        seen.push(inner);
      }
      return seen;
    }),
  );
  const results = await Promise.all(requests);
  results.forEach((seen, i) => {
    for (const [k, c] of seen.entries()) {
      assert.deepEqual(
        c,
        { sessionId: `s-${i}`, userId: `u-${i % 9}`, tags: [`t-${i}`], metadata: { k: String(k) } },
        `request ${i} step ${k}`,
      );
    }
  });
});

test('withLlmContext propagate: session.id / user.id written to baggage (other entries kept); not without it', () => {
  context.with(bag({ tenant: 'acme', 'session.id': 'up' }), () => {
    withLlmContext({ sessionId: 's-p', userId: 'u-p', propagate: true }, () => {
      const b = propagation.getBaggage(context.active());
      assert.deepEqual(Object.fromEntries(b.getAllEntries().map(([k, e]) => [k, e.value])), {
        tenant: 'acme',
        'session.id': 's-p',
        'user.id': 'u-p',
      });
    });
    withLlmContext({ sessionId: 's-np' }, () => {
      assert.equal(propagation.getBaggage(context.active()).getEntry('session.id').value, 'up', 'baggage untouched without propagate');
      assert.equal(getLlmContext().sessionId, 's-np');
    });
  });
  withLlmContext({ userId: 'only-user', propagate: true }, () => {
    const b = propagation.getBaggage(context.active());
    assert.deepEqual(
      b.getAllEntries().map(([k, e]) => [k, e.value]),
      [['user.id', 'only-user']],
    );
  });
});

// ---- runs ----

test('runs: sync values stay sync; spans named per kind; parent_call_id chains; agentName set beneath', async () => {
  exporter.reset();
  const result = withLlmContext({ sessionId: 'rs', userId: 'ru' }, () =>
    withWorkflow('wf', () =>
      withAgent('ag', () => {
        assert.equal(getLlmContext().agentName, 'ag');
        const agentCallId = getParentCallId();
        return withTool('tl', () => ({ agentCallId, toolCallId: getParentCallId(), ctx: getLlmContext() }), { toolCallId: 'call_1' });
      }),
    ),
  );
  assert.ok(!(result instanceof Promise));
  assert.equal(getParentCallId(), undefined);
  const spans = Object.fromEntries(exporter.getFinishedSpans().map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(spans).sort(), ['execute_tool tl', 'invoke_agent ag', 'invoke_workflow wf']);
  const wf = spans['invoke_workflow wf'];
  const ag = spans['invoke_agent ag'];
  const tl = spans['execute_tool tl'];
  assert.equal(result.agentCallId, ag.spanContext().spanId);
  assert.equal(result.toolCallId, tl.spanContext().spanId);
  assert.deepEqual(result.ctx, { sessionId: 'rs', userId: 'ru', agentName: 'ag' });
  assert.equal(wf.attributes['llm_otel.parent_call_id'], undefined);
  assert.equal(ag.attributes['llm_otel.parent_call_id'], wf.spanContext().spanId);
  assert.equal(tl.attributes['llm_otel.parent_call_id'], ag.spanContext().spanId);
  assert.equal(tl.parentSpanContext.spanId, ag.spanContext().spanId);
  assert.deepEqual(
    [
      tl.attributes['gen_ai.operation.name'],
      tl.attributes['gen_ai.tool.name'],
      tl.attributes['gen_ai.tool.call.id'],
      tl.attributes['gen_ai.agent.name'],
      tl.attributes['session.id'],
      tl.attributes['user.id'],
      tl.attributes['llm_otel.status'],
    ],
    ['execute_tool', 'tl', 'call_1', 'ag', 'rs', 'ru', 'ok'],
  );
  assert.deepEqual([wf.attributes['gen_ai.operation.name'], wf.attributes['gen_ai.workflow.name']], ['invoke_workflow', 'wf']);
  assert.deepEqual([ag.attributes['gen_ai.operation.name'], ag.attributes['gen_ai.agent.name']], ['invoke_agent', 'ag']);
  for (const s of [wf, ag, tl]) assert.equal(s.kind, 0, 'INTERNAL');
});

test('runs: an async fn ends its span when it settles; errors are rethrown unchanged and mark the span', async () => {
  exporter.reset();
  const err = new RangeError('bad range');
  const p = withAgent('slow', async () => {
    await sleep(3);
    throw err;
  });
  assert.equal(exporter.getFinishedSpans().length, 0, 'not ended before the promise settles');
  await assert.rejects(p, (e) => e === err);
  const [s] = exporter.getFinishedSpans();
  assert.deepEqual(
    [s.name, s.status.code, s.status.message, s.attributes['error.type'], s.attributes['llm_otel.status']],
    ['invoke_agent slow', 2, 'bad range', 'RangeError', 'error'],
  );
  exporter.reset();
  assert.equal(
    await withTool('ok', async () => {
      await sleep(1);
      return 7;
    }),
    7,
  );
  assert.equal(exporter.getFinishedSpans()[0].attributes['llm_otel.status'], 'ok');
});

test('runs: a thenable result is returned as is; an openai-APIPromise-shaped result is never .then()-ed', async () => {
  exporter.reset();
  let thenCalls = 0;
  let resolveResponse;
  const responsePromise = new Promise((r) => {
    resolveResponse = r;
  });
  const apiPromiseLike = {
    responsePromise,
    asResponse() {
      return responsePromise;
    },
    then(ok, ko) {
      thenCalls++;
      return responsePromise.then(ok, ko);
    },
  };
  assert.equal(
    withTool('api', () => apiPromiseLike),
    apiPromiseLike,
  );
  await sleep(1);
  assert.equal(thenCalls, 0, 'reading the body is left to the app');
  assert.equal(exporter.getFinishedSpans().length, 0);
  resolveResponse({ response: {} });
  await sleep(1);
  assert.equal(thenCalls, 0);
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => [s.name, s.attributes['llm_otel.status']]),
    [['execute_tool api', 'ok']],
  );

  exporter.reset();
  const thenable = {
    then(ok) {
      setTimeout(() => ok('value'), 1);
    },
  };
  assert.equal(
    withAgent('thenable', () => thenable),
    thenable,
  );
  assert.equal(await thenable, 'value');
  await sleep(2);
  assert.deepEqual(
    exporter.getFinishedSpans().map((s) => s.name),
    ['invoke_agent thenable'],
  );
});

test('runs: concurrent agents keep their own parent chain and session', async () => {
  exporter.reset();
  const out = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      withLlmContext({ sessionId: `c-${i}` }, () =>
        withAgent(`a-${i}`, async () => {
          await sleep(Math.floor(Math.random() * 4));
          const agentId = getParentCallId();
          return withTool('t', async () => {
            await sleep(Math.floor(Math.random() * 4));
            return { i, agentId, ctx: getLlmContext() };
          });
        }),
      ),
    ),
  );
  const spans = exporter.getFinishedSpans();
  for (const { i, agentId, ctx } of out) {
    assert.deepEqual(ctx, { sessionId: `c-${i}`, agentName: `a-${i}` });
    const agent = spans.find((s) => s.name === `invoke_agent a-${i}`);
    assert.equal(agent.spanContext().spanId, agentId);
    const tools = spans.filter((s) => s.name === 'execute_tool t' && s.attributes['llm_otel.parent_call_id'] === agentId);
    assert.equal(tools.length, 1);
    assert.equal(tools[0].attributes['session.id'], `c-${i}`);
  }
});
