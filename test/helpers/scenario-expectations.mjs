// The spans each scenario of test/apps/scenarios-lib.cjs must produce, written out by hand from
// the README's span contract ("Spans") and the fixture data (ids, models, usage, request ids), so
// the tests check the instrumentation independently rather than re-deriving its logic.
//
// Rules applied (where the contract leaves room, the choice is stated):
// - gen_ai.request.* only for keys present in the request body (the body the SDK sent: runTools()
//   sends `stream: false`, the stream helpers `stream: true`).
// - Usage: every count the provider reported, 0 included (cached_tokens: 0 → cache_read 0).
// - http.response.status_code: the status of the HTTP response that ended the call (200 on success,
//   400 …); absent when no response arrived (timeout, abort, refused).
// - llm_otel.request_id: the x-request-id of that response, when there was one.
// - gen_ai.response.finish_reasons only when at least one finish reason was seen; a stream ended
//   before its last chunk has none.
// - Responses API: finish_reasons ['stop'] for a completed response (no tool call).
// - error.type: the error class name (also for a user abort); span status ERROR for error/timeout,
//   not for cancelled.

import { is, UNREPORTED_USAGE } from './span-assert.mjs';

const BOUVET_MODEL = 'gpt-4o-mini-2024-07-18';

function base(ctx, op, api, model, extra = {}) {
  const a = {
    'gen_ai.operation.name': op,
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': model,
    'server.address': '127.0.0.1',
    'server.port': ctx.port,
    'llm_otel.api': api,
  };
  if (api === 'chat.completions') a['openai.api.type'] = 'chat_completions';
  if (api === 'responses') a['openai.api.type'] = 'responses';
  return { ...a, ...extra };
}
const chatReq = (ctx, extra, model = 'gpt-4o-mini') => base(ctx, 'chat', 'chat.completions', model, extra);
const respReq = (ctx, extra, model = 'gpt-4o-mini') => base(ctx, 'chat', 'responses', model, extra);

const usage = (input, output, cached, reasoning) => {
  const u = { 'gen_ai.usage.input_tokens': input, 'llm_otel.usage_source': 'provider' };
  if (output !== undefined) u['gen_ai.usage.output_tokens'] = output;
  if (cached !== undefined) u['gen_ai.usage.cache_read.input_tokens'] = cached;
  if (reasoning !== undefined) u['gen_ai.usage.reasoning.output_tokens'] = reasoning;
  return u;
};
const ok = (requestId) => ({ 'http.response.status_code': 200, 'llm_otel.request_id': requestId, 'llm_otel.status': 'ok' });
const response = (id, { model = BOUVET_MODEL, finish = ['stop'], tier = 'default', fingerprint } = {}) => {
  const r = { 'gen_ai.response.id': id, 'gen_ai.response.model': model };
  if (finish) r['gen_ai.response.finish_reasons'] = finish;
  if (tier) r['openai.response.service_tier'] = tier;
  if (fingerprint) r['openai.response.system_fingerprint'] = fingerprint;
  return r;
};
const STREAM = { 'gen_ai.request.stream': true };
const TTFT = { 'gen_ai.response.time_to_first_chunk': is.seconds() };

const span = (name, attributes, status = 'ok', extra = {}) => ({ name, attributes, status, ...extra });

// Fixture facts used more than once.
const CHAT_BOUVET = {
  ...response('chatcmpl-Bs24CNH3ITxv65qJpGjVXijYv6qX2'),
  ...usage(22, 3, 0, 0),
  ...ok('req_5b9a48ab38990a73e0f90e6d6b7b6efd'),
};
const STREAM_USAGE_ID = 'chatcmpl-BuDrRRWybY6JHzabaUyR2OtaEGp79';
const STREAM_USAGE_RID = 'req_539e03a5bdb03c6f6b3010f8c5389109';
const chatStreamUsage = (ctx) =>
  chatReq(ctx, { ...STREAM, ...response(STREAM_USAGE_ID), ...usage(22, 4, 0, 0), ...TTFT, ...ok(STREAM_USAGE_RID) });
/** A stream of the include_usage fixture that ended before its last chunks. */
const partialStream = (ctx, status, extra = {}) =>
  chatReq(ctx, {
    ...STREAM,
    ...response(STREAM_USAGE_ID, { finish: null }),
    ...TTFT,
    [UNREPORTED_USAGE]: true,
    'http.response.status_code': 200,
    'llm_otel.request_id': STREAM_USAGE_RID,
    'llm_otel.status': status,
    ...extra,
  });

/**
 * Expected spans per scenario, in start order. ctx: { port, closedPort, result } where result is
 * the JSON line the app printed for the scenario (used only for the error class of a dropped
 * socket, which differs by transport: node-fetch in openai 4, undici fetch in 5+).
 */
export const EXPECTED = {
  version: () => [],
  chat: (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, CHAT_BOUVET))],
  'chat-options': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.request.frequency_penalty': 0,
        'gen_ai.request.max_tokens': 100,
        'gen_ai.request.presence_penalty': 0,
        'gen_ai.request.temperature': 1,
        'gen_ai.request.top_p': 1,
        'gen_ai.request.stop_sequences': ['foo'],
        'gen_ai.request.seed': 100,
        'gen_ai.output.type': 'text',
        ...response('chatcmpl-BuBHDcCmHq9bBC02V7hVNxoUXiTpY'),
        ...usage(22, 3, 0, 0),
        ...ok('req_5dd31d8f9aa5eb13a6e7903923492d90'),
      }),
    ),
  ],
  'chat-n2': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.request.choice.count': 2,
        ...response('chatcmpl-BuBWCXM60KsHvr7qJbN0qJTHUTm98', { finish: ['stop', 'stop'] }),
        ...usage(22, 6, 0, 0),
        ...ok('req_647fdbd760685b6f73c5cc23138cfda1'),
      }),
    ),
  ],
  'chat-tools': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...response('chatcmpl-BuC0QNgPhzfHw7tSwGnvSOIL636JK', { finish: ['tool_calls'] }),
        ...usage(57, 46, 0, 0),
        ...ok('req_7975a25b0266245986eb0145433f3813'),
      }),
    ),
  ],
  'chat-cached-reasoning': (ctx) => [
    span(
      'chat o4-mini',
      chatReq(
        ctx,
        {
          'gen_ai.request.max_tokens': 500,
          'openai.request.service_tier': 'flex',
          ...response('chatcmpl-llmotelSynthCached01', { model: 'o4-mini-2025-04-16', tier: 'flex', fingerprint: 'fp_synth0002' }),
          ...usage(1536, 140, 1280, 128),
          ...ok('req_synth_chat_cached_0001'),
        },
        'o4-mini',
      ),
    ),
  ],
  'chat-stream': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...STREAM,
        ...response('chatcmpl-BuDJt3XpbTrkrYBUooP67fAFPTDDa'),
        ...TTFT,
        [UNREPORTED_USAGE]: true,
        ...ok('req_24119fc6cbdf89dfadb4c34bd78fad3b'),
      }),
    ),
  ],
  'chat-stream-usage': (ctx) => [span('chat gpt-4o-mini', chatStreamUsage(ctx))],
  'chat-stream-n2': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...STREAM,
        'gen_ai.request.choice.count': 2,
        ...response('chatcmpl-BuDPruvXvy1cTouU79MhRWdmZWMqk', { finish: ['stop', 'stop'] }),
        ...TTFT,
        [UNREPORTED_USAGE]: true,
        ...ok('req_fa9c7a16b29cca45d28032fdb0d910b6'),
      }),
    ),
  ],
  'chat-stream-tools': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...STREAM,
        ...response('chatcmpl-BuDpRr8h0kwBLc53wzb0GeYXsWCcX', { finish: ['tool_calls'] }),
        ...TTFT,
        [UNREPORTED_USAGE]: true,
        ...ok('req_222b8015f2cab35df65c97bfd8e226f0'),
      }),
    ),
  ],
  'chat-stream-no-choices': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...STREAM,
        ...response('chatcmpl-empty-choices-regression'),
        ...TTFT,
        [UNREPORTED_USAGE]: true,
        ...ok('req_emptychoicesregression0000000000'),
      }),
    ),
  ],
  responses: (ctx) => [
    span(
      'chat gpt-4o-mini',
      respReq(ctx, {
        ...response('resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b', { tier: null }),
        ...usage(22, 3, 0, 0),
        ...ok('req_802a3f33a174604930b978de8f0a86e5'),
      }),
    ),
  ],
  'responses-stream': (ctx) => [
    span(
      'chat gpt-4o-mini',
      respReq(ctx, {
        ...STREAM,
        ...response('resp_stream_adds', { tier: null }),
        ...usage(22, 3, 0, 0),
        ...TTFT,
        ...ok('req_18ad4e85b0c17a3e15a6816be760af4a'),
      }),
    ),
  ],
  'responses-stream-cached': (ctx) => [
    span(
      'chat o4-mini',
      respReq(
        ctx,
        {
          ...STREAM,
          'gen_ai.request.max_tokens': 500,
          ...response('resp_llmotel_synth_stream_02', { model: 'o4-mini-2025-04-16' }),
          ...usage(2048, 200, 1024, 192),
          ...TTFT,
          ...ok('req_synth_resp_stream_0002'),
        },
        'o4-mini',
      ),
    ),
  ],
  embeddings: (ctx) => [
    span(
      'embeddings text-embedding-3-small',
      base(ctx, 'embeddings', 'embeddings', 'text-embedding-3-small', {
        'gen_ai.request.encoding_formats': ['float'],
        'gen_ai.response.model': 'text-embedding-3-small',
        ...usage(8),
        ...ok('req_b9351ce5f84420f8e6078a467cfb19db'),
      }),
    ),
  ],
  completions: (ctx) => [
    span(
      'text_completion gpt-3.5-turbo-instruct',
      base(ctx, 'text_completion', 'completions', 'gpt-3.5-turbo-instruct', {
        'gen_ai.request.max_tokens': 7,
        'gen_ai.request.temperature': 0,
        ...response('cmpl-llmotelSynth0001', { model: 'gpt-3.5-turbo-instruct:20230824-v2', finish: ['length'], tier: null }),
        ...usage(5, 7),
        ...ok('req_synth_completions_0001'),
      }),
    ),
  ],

  'chat-parse': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.output.type': 'json',
        ...response('chatcmpl-llmotelSynthParse01', { fingerprint: 'fp_synth0001' }),
        ...usage(61, 12, 0, 0),
        ...ok('req_synth_chat_parse_0001'),
      }),
    ),
  ],
  'chat-stream-helper': (ctx) => [span('chat gpt-4o-mini', chatStreamUsage(ctx))],
  'chat-run-tools': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.request.stream': false,
        ...response('chatcmpl-BuC0QNgPhzfHw7tSwGnvSOIL636JK', { finish: ['tool_calls'] }),
        ...usage(57, 46, 0, 0),
        ...ok('req_7975a25b0266245986eb0145433f3813'),
      }),
    ),
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.request.stream': false,
        ...response('chatcmpl-BuC0RWtqOwuGmjmhnEbVkzMHfn3yD'),
        ...usage(125, 26, 0, 0),
        ...ok('req_c5854b92f43699c9e6c43a7327a0193d'),
      }),
    ),
  ],
  'responses-parse': (ctx) => [
    span(
      'chat gpt-4o-mini',
      respReq(ctx, {
        'gen_ai.output.type': 'json',
        ...response('resp_llmotel_synth_parse_01', { tier: null }),
        ...usage(58, 12, 0, 0),
        ...ok('req_synth_resp_parse_0001'),
      }),
    ),
  ],
  'responses-stream-helper': (ctx) => [
    span(
      'chat gpt-4o-mini',
      respReq(ctx, {
        ...STREAM,
        ...response('resp_stream_usage', { tier: null }),
        ...usage(22, 4),
        ...TTFT,
        ...ok('req_5cccabf22e22a9b8df4dc2f94d8acee9'),
      }),
    ),
  ],
  'with-response': (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, CHAT_BOUVET))],
  // The body is the app's to read (.asResponse()): nothing of it can be on the span.
  'as-response': (ctx) => [
    span('chat gpt-4o-mini', chatReq(ctx, { [UNREPORTED_USAGE]: true, ...ok('req_5b9a48ab38990a73e0f90e6d6b7b6efd') })),
  ],
  'stream-tee': (ctx) => [span('chat gpt-4o-mini', chatStreamUsage(ctx))],
  'stream-readable': (ctx) => [span('chat gpt-4o-mini', chatStreamUsage(ctx))],
  azure: (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, { ...CHAT_BOUVET, 'gen_ai.provider.name': 'azure.ai.openai' }))],

  'retry-429': (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, { ...CHAT_BOUVET, 'http.request.resend_count': 2 }))],
  'retry-500': (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, { ...CHAT_BOUVET, 'http.request.resend_count': 1 }))],
  timeout: (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'llm_otel.status': 'timeout',
        'error.type': 'APIConnectionTimeoutError',
        'llm_otel.usage_source': 'none',
      }),
      'timeout',
    ),
  ],
  abort: (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'llm_otel.status': 'cancelled',
        'error.type': 'APIUserAbortError',
        'llm_otel.usage_source': 'none',
      }),
      'cancelled',
    ),
  ],
  'bad-request': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'gen_ai.request.temperature': 7,
        'llm_otel.status': 'error',
        'error.type': 'BadRequestError',
        'http.response.status_code': 400,
        'llm_otel.request_id': 'req_b23588e68985a24385f7de231419ba6c',
        'llm_otel.usage_source': 'none',
      }),
      'error',
      { messageIncludes: "Invalid value for 'temperature'" },
    ),
  ],
  refused: (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        'server.port': ctx.closedPort,
        'llm_otel.status': 'error',
        'error.type': 'APIConnectionError',
        'llm_otel.usage_source': 'none',
      }),
      'error',
    ),
  ],

  'stream-break': (ctx) => [span('chat gpt-4o-mini', partialStream(ctx, 'cancelled'), 'cancelled')],
  'stream-abort': (ctx) => [span('chat gpt-4o-mini', partialStream(ctx, 'cancelled'), 'cancelled')],
  'stream-throw': (ctx) => [span('chat gpt-4o-mini', partialStream(ctx, 'cancelled'), 'cancelled')],
  'stream-drop': (ctx) => [span('chat gpt-4o-mini', partialStream(ctx, 'error', { 'error.type': ctx.result.error }), 'error')],
  'stream-hang': (ctx) => [span('chat gpt-4o-mini', partialStream(ctx, 'cancelled'), 'cancelled')],
  // Never iterated: the span still ends (at exit at the latest), with what the headers told.
  'stream-never-iterated': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...STREAM,
        [UNREPORTED_USAGE]: true,
        'http.response.status_code': 200,
        'llm_otel.request_id': STREAM_USAGE_RID,
        'llm_otel.status': 'cancelled',
      }),
      'cancelled',
    ),
  ],

  'chat-system': (ctx) => [
    span(
      'chat gpt-4o-mini',
      chatReq(ctx, {
        ...response('chatcmpl-BuB3yRx2oVTZLIFRKVmEQ9yC8RuCG'),
        ...usage(24, 3, 0, 0),
        ...ok('req_12b64a999af2cbe909602adc344dba39'),
      }),
    ),
  ],
  'chat-secret-in-prompt': (ctx) => [span('chat gpt-4o-mini', chatReq(ctx, CHAT_BOUVET))],
  'responses-instructions': (ctx) => [
    span(
      'chat gpt-4o-mini',
      respReq(ctx, {
        ...response('resp_sys_instr_001', { tier: null }),
        ...usage(28, 3, 0, 0),
        ...ok('req_6b00f9219d233177f47f5433e9ca5102'),
      }),
    ),
  ],
};

/** Content attributes (LLM_OTEL_CAPTURE_CONTENT=all), parsed JSON, per scenario. */
export const EXPECTED_CONTENT = {
  chat: {
    'gen_ai.input.messages': [
      { role: 'user', parts: [{ type: 'text', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }] },
    ],
    'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'Atlantic Ocean.' }], finish_reason: 'stop' }],
  },
  // Chat Completions has no separate instructions field: the system message stays in the input.
  'chat-system': {
    'gen_ai.input.messages': [
      { role: 'system', parts: [{ type: 'text', content: 'You are an assistant which just answers every query with tomato' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Say something' }] },
    ],
    'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'Tomato.' }], finish_reason: 'stop' }],
  },
  'chat-tools': {
    'gen_ai.input.messages': [
      { role: 'system', parts: [{ type: 'text', content: 'You are a helpful assistant providing weather updates.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'What is the weather in New York City and London?' }] },
    ],
    'gen_ai.output.messages': [
      {
        role: 'assistant',
        parts: [
          { type: 'tool_call', id: 'call_PXP2udMH0QECumyxuh4lpn3y', name: 'get_weather', arguments: { location: 'New York City' } },
          { type: 'tool_call', id: 'call_TKk9c7b7gvDqCQzv80Loc7fT', name: 'get_weather', arguments: { location: 'London' } },
        ],
        finish_reason: 'tool_call', // semconv's normalized value (the span's finish_reasons keeps the provider's 'tool_calls')
      },
    ],
    'gen_ai.tool.definitions': [
      {
        type: 'function',
        name: 'get_weather',
        parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
      },
    ],
  },
  // Tool calls assembled from stream deltas.
  'chat-stream-tools': {
    'gen_ai.input.messages': [
      { role: 'system', parts: [{ type: 'text', content: 'You are a helpful assistant providing weather updates.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'What is the weather in New York City and London?' }] },
    ],
    'gen_ai.output.messages': [
      {
        role: 'assistant',
        parts: [
          { type: 'tool_call', id: 'call_9ujI2ZExKzIGa57dsFCuwSXI', name: 'get_weather', arguments: { location: 'New York City' } },
          { type: 'tool_call', id: 'call_M5Jmiz7Y7ZUiASk3ShRROpUr', name: 'get_weather', arguments: { location: 'London' } },
        ],
        finish_reason: 'tool_call',
      },
    ],
    'gen_ai.tool.definitions': [
      {
        type: 'function',
        name: 'get_weather',
        parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
      },
    ],
  },
  'responses-instructions': {
    'gen_ai.system_instructions': [{ type: 'text', content: 'Answer in up to 3 words.' }],
    'gen_ai.input.messages': [{ role: 'user', parts: [{ type: 'text', content: 'Which ocean contains Bouvet Island?' }] }],
    'gen_ai.output.messages': [{ role: 'assistant', parts: [{ type: 'text', content: 'Atlantic Ocean.' }], finish_reason: 'stop' }],
  },
};

export const CONTENT_KEYS = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.tool.definitions'];
