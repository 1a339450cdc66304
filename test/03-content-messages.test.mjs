// OpenAI request/response objects → semconv v1.41 content JSON (src/content/*), on the recorded
// wire shapes in test/fixtures (see test/fixtures/openai-recordings/README.md for attribution).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { test } from 'vitest';
import {
  chatRequestContent,
  chatResponseOutput,
  completionsRequestContent,
  completionsResponseOutput,
  createRedactor,
  embeddingsRequestContent,
  messageText,
  responsesFinishReason,
  responsesRequestContent,
  responsesResponseOutput,
  toolDefinitions,
} from '../dist/esm/src/content/index.js';

const o = { redact: createRedactor({ mode: 'default' }), maxChars: 4096 };

/** The interactions of a recording, with gzip-hex bodies decoded. */
function fixture(name, dir = 'openai-recordings') {
  const all = JSON.parse(readFileSync(new URL(`./fixtures/${dir}/${name}`, import.meta.url), 'utf8'));
  return all.map((i) => ({
    body: i.body,
    response: Array.isArray(i.response) ? JSON.parse(gunzipSync(Buffer.from(i.response.join(''), 'hex')).toString('utf8')) : i.response,
  }));
}
const rec = (name) => fixture(`openai-${name}.json`);

const text = (content) => ({ type: 'text', content });
const user = (content) => ({ role: 'user', parts: [text(content)] });

/** Recursively freeze so any write into the caller's objects throws in strict mode. */
function deepFreeze(v) {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze(v[k]);
  }
  return v;
}

// A 1x1 PNG.
const PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const PNG_BYTES = Buffer.from(PNG_B64, 'base64').length;

// ---------------------------------------------------------------------------------------------
// Chat Completions

test('chat: system message stays in the chat history (semconv), tool definitions', () => {
  const [i] = rec('chat-completions-adds-genai-conventions-with-system-message');
  assert.deepEqual(chatRequestContent(i.body, o), {
    inputMessages: [
      { role: 'system', parts: [text('You are an assistant which just answers every query with tomato')] },
      user('Say something'),
    ],
  });
  assert.deepEqual(chatResponseOutput(i.response.choices, o), [{ role: 'assistant', parts: [text('Tomato.')], finish_reason: 'stop' }]);
});

test('chat: developer role is kept as is', () => {
  const [i] = fixture('chat-completions-cached-reasoning.json', 'openai-synthetic');
  assert.deepEqual(chatRequestContent(i.body, o).inputMessages, [
    { role: 'developer', parts: [text('Be brief.')] },
    user('Which ocean contains Bouvet Island?'),
  ]);
});

test('chat: two-turn tool calls (recorded)', () => {
  const [first, second] = rec('chat-completions-records-tool-calls');
  const weatherTool = {
    type: 'function',
    name: 'get_weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
  };
  const sys = { role: 'system', parts: [text('You are a helpful assistant providing weather updates.')] };
  const ask = user('What is the weather in New York City and London?');
  const calls = [
    { type: 'tool_call', id: 'call_PXP2udMH0QECumyxuh4lpn3y', name: 'get_weather', arguments: { location: 'New York City' } },
    { type: 'tool_call', id: 'call_TKk9c7b7gvDqCQzv80Loc7fT', name: 'get_weather', arguments: { location: 'London' } },
  ];
  assert.deepEqual(chatRequestContent(first.body, o), { inputMessages: [sys, ask], toolDefinitions: [weatherTool] });
  assert.deepEqual(chatResponseOutput(first.response.choices, o), [{ role: 'assistant', parts: calls, finish_reason: 'tool_call' }]);
  assert.deepEqual(chatRequestContent(second.body, o), {
    inputMessages: [
      sys,
      ask,
      { role: 'assistant', parts: calls },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_PXP2udMH0QECumyxuh4lpn3y', response: '25 degrees and sunny' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_TKk9c7b7gvDqCQzv80Loc7fT', response: '15 degrees and raining' }] },
    ],
    toolDefinitions: [weatherTool],
  });
  assert.deepEqual(chatResponseOutput(second.response.choices, o), [
    {
      role: 'assistant',
      parts: [text('The weather in New York City is 25 degrees and sunny, while in London, it is 15 degrees and raining.')],
      finish_reason: 'stop',
    },
  ]);
});

test('chat: multiple choices → one output message each', () => {
  const [i] = rec('chat-completions-records-multiple-choices');
  assert.deepEqual(chatRequestContent(i.body, o), {
    inputMessages: [user('Answer in up to 3 words: Which ocean contains Bouvet Island?')],
  });
  assert.deepEqual(chatResponseOutput(i.response.choices, o), [
    { role: 'assistant', parts: [text('Atlantic Ocean.')], finish_reason: 'stop' },
    { role: 'assistant', parts: [text('Southern Ocean.')], finish_reason: 'stop' },
  ]);
});

test('chat: an accumulated stream choice (message or delta, partial arguments) converts too', () => {
  const choices = [
    {
      index: 0,
      finish_reason: null,
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_9ujI2ZExKzIGa57dsFCuwSXI', type: 'function', function: { name: 'get_weather', arguments: '{"locatio' } }],
      },
    },
    { index: 1, finish_reason: 'length', delta: { role: 'assistant', content: 'Atlantic' } },
  ];
  assert.deepEqual(chatResponseOutput(choices, o), [
    {
      role: 'assistant',
      parts: [{ type: 'tool_call', id: 'call_9ujI2ZExKzIGa57dsFCuwSXI', name: 'get_weather', arguments: '{"locatio' }],
      finish_reason: '',
    },
    { role: 'assistant', parts: [text('Atlantic')], finish_reason: 'length' },
  ]);
});

test('chat: multimodal user content (data URL → placeholder, URL → uri, audio, files)', () => {
  const body = {
    model: 'gpt-4o',
    messages: [
      {
        role: 'user',
        name: 'anna',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}`, detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpeg?sig=abcdef123' } },
          { type: 'input_audio', input_audio: { data: 'UklGRiQAAABXQVZFZm10IBAAAAABAAEA', format: 'wav' } },
          { type: 'file', file: { file_id: 'file-abc123', filename: 'report.pdf' } },
          { type: 'file', file: { file_data: `data:application/pdf;base64,${'QUJD'.repeat(10)}`, filename: 'a.pdf' } },
          { type: 'mystery', payload: { note: 'mail me: x@example.com' } },
        ],
      },
    ],
  };
  assert.deepEqual(chatRequestContent(body, o).inputMessages, [
    {
      role: 'user',
      name: 'anna',
      parts: [
        text('What is in these?'),
        { type: 'blob', modality: 'image', mime_type: 'image/png', content: `[base64 image/png ${PNG_BYTES} bytes]` },
        { type: 'uri', modality: 'image', mime_type: 'image/jpeg', uri: 'https://example.com/cat.jpeg?sig=[API_KEY]' },
        { type: 'blob', modality: 'audio', mime_type: 'audio/wav', content: '[base64 audio/wav 24 bytes]' },
        { type: 'file', modality: 'document', mime_type: 'application/pdf', file_id: 'file-abc123' },
        { type: 'blob', modality: 'document', mime_type: 'application/pdf', content: '[base64 application/pdf 30 bytes]' },
        { type: 'mystery', payload: { note: 'mail me: [EMAIL]' } },
      ],
    },
  ]);
});

test('chat: assistant refusal, reasoning, audio, legacy function_call and function role', () => {
  const body = {
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"q":"x"}' } },
      { role: 'function', name: 'lookup', content: 'found it' },
      { role: 'assistant', content: '', refusal: 'I cannot help with that.', audio: { id: 'audio_1' } },
      {
        role: 'tool',
        tool_call_id: 'call_1',
        content: [
          { type: 'text', text: 'part one' },
          { type: 'text', text: 'part two' },
        ],
      },
    ],
    functions: [{ name: 'lookup', description: 'Look things up', parameters: { type: 'object' } }],
  };
  assert.deepEqual(chatRequestContent(body, o), {
    inputMessages: [
      user('hi'),
      { role: 'assistant', parts: [{ type: 'tool_call', name: 'lookup', arguments: { q: 'x' } }] },
      { role: 'tool', name: 'lookup', parts: [{ type: 'tool_call_response', response: 'found it' }] },
      { role: 'assistant', parts: [text(''), text('I cannot help with that.'), { type: 'audio', id: 'audio_1' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: 'part one\npart two' }] },
    ],
    toolDefinitions: [{ type: 'function', name: 'lookup', description: 'Look things up', parameters: { type: 'object' } }],
  });
  const choices = [
    { index: 0, finish_reason: 'stop', message: { role: 'assistant', reasoning_content: 'Think: user@example.com', content: 'Done.' } },
    { index: 1, finish_reason: 'content_filter', message: { role: 'assistant', content: null, refusal: 'No.' } },
    {
      index: 2,
      finish_reason: 'function_call',
      message: { role: 'assistant', content: null, function_call: { name: 'f', arguments: 'not json' } },
    },
    {
      index: 3,
      finish_reason: 'stop',
      message: { role: 'assistant', content: null, audio: { id: 'a1', data: 'AAAA', transcript: 'Hello there' } },
    },
  ];
  assert.deepEqual(chatResponseOutput(choices, o), [
    { role: 'assistant', parts: [{ type: 'reasoning', content: 'Think: [EMAIL]' }, text('Done.')], finish_reason: 'stop' },
    { role: 'assistant', parts: [text('No.')], finish_reason: 'content_filter' },
    { role: 'assistant', parts: [{ type: 'tool_call', name: 'f', arguments: 'not json' }], finish_reason: 'tool_call' },
    {
      role: 'assistant',
      parts: [text('Hello there'), { type: 'blob', modality: 'audio', content: '[base64 3 bytes]' }],
      finish_reason: 'stop',
    },
  ]);
});

test('tool call arguments: JSON leaves redacted and truncated, credential keys masked, else a string', () => {
  const small = { redact: o.redact, maxChars: 10 };
  const args = JSON.stringify({
    to: 'bob@example.com',
    api_key: 'abc123',
    headers: { Authorization: 'Bearer xyz' },
    n: 3,
    ok: true,
    none: null,
    list: ['call 13812345678', 'ok'],
    long: 'abcdefghijklmnopqrstuvwxyz',
    password: 12345,
  });
  const [msg] = chatResponseOutput(
    [
      {
        finish_reason: 'tool_calls',
        message: { tool_calls: [{ id: 'c', type: 'function', function: { name: 'send', arguments: args } }] },
      },
    ],
    small,
  );
  assert.deepEqual(msg.parts[0].arguments, {
    to: '[EMAIL]',
    api_key: '[API_KEY]',
    headers: { Authorization: '[API_KEY]' },
    n: 3,
    ok: true,
    none: null,
    list: ['call [PHON…[truncated: 16 chars]', 'ok'],
    long: 'abcdefghij…[truncated: 26 chars]',
    password: '[API_KEY]',
  });
  const [bad] = chatResponseOutput(
    [
      {
        message: {
          tool_calls: [
            { id: 'c', type: 'function', function: { name: 'f', arguments: '{"to": "bob@example.com", "body": "unterminated' } },
          ],
        },
      },
    ],
    o,
  );
  assert.equal(bad.parts[0].arguments, '{"to": "[EMAIL]", "body": "unterminated');
  const [scalar] = chatResponseOutput(
    [{ message: { tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '42' } }] } }],
    o,
  );
  assert.equal(scalar.parts[0].arguments, '42');
});

// ---------------------------------------------------------------------------------------------
// Responses API

test('responses: string input, instructions → system instructions', () => {
  const [i] = rec('responses-records-system-instructions');
  assert.deepEqual(responsesRequestContent(i.body, o), {
    inputMessages: [user('Which ocean contains Bouvet Island?')],
    systemInstructions: [text('Answer in up to 3 words.')],
  });
  assert.deepEqual(responsesResponseOutput(i.response, o), [
    { role: 'assistant', parts: [text('Atlantic Ocean.')], finish_reason: 'stop' },
  ]);
});

test('responses: function calls out, with tool definitions (flat function tools)', () => {
  const [i] = rec('responses-records-function-calls');
  const c = responsesRequestContent(i.body, o);
  assert.deepEqual(c.inputMessages, [
    { role: 'system', parts: [text('You are a helpful assistant providing weather updates.')] },
    user('What is the weather in Paris and Bogotá?'),
  ]);
  assert.equal(c.systemInstructions, undefined);
  assert.deepEqual(c.toolDefinitions, [
    {
      type: 'function',
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      parameters: {
        type: 'object',
        properties: { location: { type: 'string', description: 'The city, e.g. San Francisco' } },
        required: ['location'],
      },
    },
    {
      type: 'function',
      name: 'send_email',
      description: 'Send an email',
      parameters: {
        type: 'object',
        properties: {
          to: { type: 'string', description: 'The email address of the recipient' },
          body: { type: 'string', description: 'The body of the email' },
        },
        required: ['to', 'body'],
      },
    },
  ]);
  assert.deepEqual(responsesResponseOutput(i.response, o), [
    {
      role: 'assistant',
      parts: [
        { type: 'tool_call', id: 'call_12345xyz', name: 'get_weather', arguments: { location: 'Paris, France' } },
        { type: 'tool_call', id: 'call_67890abc', name: 'get_weather', arguments: { location: 'Bogotá, Colombia' } },
        { type: 'tool_call', id: 'call_99999def', name: 'send_email', arguments: { to: '[EMAIL]', body: 'Hi bob' } },
      ],
      finish_reason: 'tool_call',
    },
  ]);
});

test('responses: function_call and function_call_output items in the input', () => {
  const [i] = rec('responses-records-function-call-outputs');
  assert.deepEqual(responsesRequestContent(i.body, o).inputMessages, [
    user('What is the weather in Paris?'),
    {
      role: 'assistant',
      parts: [{ type: 'tool_call', id: 'call_12345xyz', name: 'get_weather', arguments: { location: 'Paris, France' } }],
    },
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_12345xyz', response: '{"temperature":22,"condition":"sunny"}' }] },
  ]);
  assert.deepEqual(responsesResponseOutput(i.response, o), [
    { role: 'assistant', parts: [text('The weather in Paris is 22°C and sunny.')], finish_reason: 'stop' },
  ]);
});

test('responses: multimodal input (URL image), and a data URL image / file inputs', () => {
  const [i] = rec('responses-records-multimodal-input');
  assert.deepEqual(responsesRequestContent(i.body, o).inputMessages, [
    {
      role: 'user',
      parts: [
        text('What is in this image?'),
        { type: 'uri', modality: 'image', mime_type: 'image/png', uri: 'https://example.com/image.png' },
      ],
    },
  ]);
  const body = {
    input: [
      {
        role: 'user',
        content: [
          { type: 'input_image', image_url: `data:image/png;base64,${PNG_B64}`, detail: 'auto' },
          { type: 'input_image', file_id: 'file-img1' },
          { type: 'input_file', file_id: 'file-doc1', filename: 'notes.txt' },
          { type: 'input_file', file_data: `data:application/pdf;base64,${'QUJD'.repeat(4)}`, filename: 'x.pdf' },
          { type: 'input_file', file_url: 'https://example.com/spec.pdf' },
        ],
      },
    ],
  };
  assert.deepEqual(responsesRequestContent(body, o).inputMessages, [
    {
      role: 'user',
      parts: [
        { type: 'blob', modality: 'image', mime_type: 'image/png', content: `[base64 image/png ${PNG_BYTES} bytes]` },
        { type: 'file', modality: 'image', file_id: 'file-img1' },
        { type: 'file', modality: 'document', mime_type: 'text/plain', file_id: 'file-doc1' },
        { type: 'blob', modality: 'document', mime_type: 'application/pdf', content: '[base64 application/pdf 12 bytes]' },
        { type: 'uri', modality: 'document', mime_type: 'application/pdf', uri: 'https://example.com/spec.pdf' },
      ],
    },
  ]);
});

test('responses: built-in tools are server_tool_call (+ response) parts', () => {
  const [ci] = rec('responses-records-code-interpreter-calls-with-outputs');
  assert.deepEqual(responsesRequestContent(ci.body, o), {
    inputMessages: [user('Plot and analyse the histogram of the RGB channels for the uploaded image.')],
    toolDefinitions: [{ type: 'code_interpreter', name: 'code_interpreter' }],
  });
  assert.deepEqual(responsesResponseOutput(ci.response, o), [
    {
      role: 'assistant',
      parts: [
        {
          type: 'server_tool_call',
          id: 'ci_68a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5',
          name: 'code_interpreter',
          server_tool_call: {
            type: 'code_interpreter',
            code: "import matplotlib.pyplot as plt\nimg = plt.imread('image.png')\nplt.hist(img[:,:,0].ravel(), bins=256, color='red')\nplt.show()",
          },
        },
        {
          type: 'server_tool_call_response',
          id: 'ci_68a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5',
          server_tool_call_response: {
            type: 'code_interpreter',
            outputs: [
              { type: 'image', url: 'https://files.openai.com/abc123/histogram.png', file_id: 'file-abc123' },
              { type: 'logs', logs: 'Histogram generated successfully for RGB channels.' },
            ],
          },
        },
      ],
      finish_reason: 'stop',
    },
  ]);

  const [fs] = rec('responses-records-file-search-calls');
  const fsOut = responsesResponseOutput(fs.response, o)[0];
  assert.deepEqual(fsOut.parts.slice(0, 2), [
    {
      type: 'server_tool_call',
      id: 'fs_67c09ccea8c48191ade9367e3ba71515',
      name: 'file_search',
      server_tool_call: { type: 'file_search', queries: ['What is deep research?'] },
    },
    {
      type: 'server_tool_call_response',
      id: 'fs_67c09ccea8c48191ade9367e3ba71515',
      server_tool_call_response: {
        type: 'file_search',
        results: [
          {
            id: 'file-2dtbBZdjtDKS8eqWxqbgDi',
            filename: 'deep_research_blog.pdf',
            score: 0.95,
            text: fs.response.output[0].results[0].text,
          },
        ],
      },
    },
  ]);
  assert.equal(fsOut.parts[2].type, 'text');
  assert.equal(fsOut.finish_reason, 'stop');

  const [ws] = rec('responses-records-web-search-calls');
  assert.deepEqual(responsesResponseOutput(ws.response, o), [
    {
      role: 'assistant',
      parts: [
        {
          type: 'server_tool_call',
          id: 'ws_67c9fa0502748190b7dd390736892e100be649c1a5ff9609',
          name: 'web_search',
          server_tool_call: { type: 'web_search', action: 'search' },
        },
        text('On March 6, 2025, several news...'),
      ],
      finish_reason: 'stop',
    },
  ]);
  const withSources = {
    status: 'completed',
    output: [
      {
        type: 'web_search_call',
        id: 'ws_1',
        action: { type: 'search', query: 'otters', sources: [{ type: 'url', url: 'https://example.com/otters' }] },
      },
    ],
  };
  assert.deepEqual(responsesResponseOutput(withSources, o)[0].parts, [
    {
      type: 'server_tool_call',
      id: 'ws_1',
      name: 'web_search',
      server_tool_call: { type: 'web_search', action: { type: 'search', query: 'otters' } },
    },
    {
      type: 'server_tool_call_response',
      id: 'ws_1',
      server_tool_call_response: { type: 'web_search', sources: [{ type: 'url', url: 'https://example.com/otters' }] },
    },
  ]);
  assert.equal(withSources.output[0].action.sources.length, 1, 'input untouched');
});

test('responses: image generation result (base64) is never recorded', () => {
  const [i] = rec('responses-records-image-generation-call');
  assert.deepEqual(responsesRequestContent(i.body, o).inputMessages, [
    user('Now make it look realistic'),
    {
      role: 'assistant',
      parts: [{ type: 'server_tool_call', id: 'ig_123', name: 'image_generation', server_tool_call: { type: 'image_generation' } }],
    },
  ]);
  const b64 = Buffer.alloc(3000, 7).toString('base64');
  const response = { status: 'completed', output: [{ ...i.response.output[0], result: b64, output_format: 'webp' }] };
  const out = responsesResponseOutput(response, o);
  assert.deepEqual(out, [
    {
      role: 'assistant',
      parts: [
        {
          type: 'server_tool_call',
          id: 'ig_124',
          name: 'image_generation',
          server_tool_call: { type: 'image_generation', revised_prompt: i.response.output[0].revised_prompt },
        },
        {
          type: 'server_tool_call_response',
          id: 'ig_124',
          server_tool_call_response: { type: 'image_generation', result: '[base64 image/webp 3000 bytes]' },
        },
      ],
      finish_reason: 'stop',
    },
  ]);
  assert.ok(!JSON.stringify(out).includes(b64.slice(0, 40)));
});

test('responses: MCP list/approval/call items', () => {
  const [calls] = rec('responses-records-mcp-calls');
  const c = responsesRequestContent(calls.body, o);
  assert.deepEqual(c.toolDefinitions, [{ type: 'mcp', name: 'dmcp' }]);
  assert.deepEqual(c.inputMessages, [
    user('Roll 2d4+1'),
    {
      role: 'assistant',
      parts: [
        {
          type: 'server_tool_call',
          id: 'mcpl_68a6102a4968819c8177b05584dd627b0679e572a900e618',
          name: 'mcp_list_tools',
          server_tool_call: { type: 'mcp_list_tools', server_label: 'dmcp' },
        },
        {
          type: 'server_tool_call_response',
          id: 'mcpl_68a6102a4968819c8177b05584dd627b0679e572a900e618',
          server_tool_call_response: {
            type: 'mcp_list_tools',
            tools: [{ name: 'roll', description: 'Given a string of text describing a dice roll...' }],
          },
        },
        {
          type: 'mcp_approval_request',
          id: 'mcpr_68a619e1d82c8190b50c1ccba7ad18ef0d2d23a86136d339',
          arguments: '{"diceRollExpression":"2d4 + 1"}',
          name: 'roll',
          server_label: 'dmcp',
        },
      ],
    },
    {
      role: 'user',
      parts: [
        { type: 'mcp_approval_response', approve: true, approval_request_id: 'mcpr_68a619e1d82c8190b50c1ccba7ad18ef0d2d23a86136d339' },
      ],
    },
  ]);
  assert.deepEqual(responsesResponseOutput(calls.response, o), [
    {
      role: 'assistant',
      parts: [
        {
          type: 'server_tool_call',
          id: 'mcp_68a6102d8948819c9b1490d36d5ffa4a0679e572a900e618',
          name: 'roll',
          server_tool_call: { type: 'mcp', server_label: 'dmcp', name: 'roll', arguments: { diceRollExpression: '2d4 + 1' } },
        },
        {
          type: 'server_tool_call_response',
          id: 'mcp_68a6102d8948819c9b1490d36d5ffa4a0679e572a900e618',
          server_tool_call_response: { type: 'mcp', output: '4' },
        },
      ],
      finish_reason: 'stop',
    },
  ]);
  const [list] = rec('responses-records-mcp-list-tools-and-approval');
  const out = responsesResponseOutput(list.response, o)[0];
  assert.deepEqual(
    out.parts.map((p) => p.type),
    ['server_tool_call', 'server_tool_call_response', 'mcp_approval_request'],
  );
  assert.equal(out.finish_reason, 'stop');
});

test('responses: client-executed tools (computer, local shell, custom) are tool_call parts', () => {
  const [cu] = rec('responses-records-computer-use-calls');
  assert.deepEqual(responsesRequestContent(cu.body, o), {
    inputMessages: [user('Check the latest OpenAI news on bing.com.')],
    toolDefinitions: [{ type: 'computer_use_preview', name: 'computer_use_preview' }],
  });
  assert.deepEqual(responsesResponseOutput(cu.response, o), [
    {
      role: 'assistant',
      parts: [
        { type: 'reasoning', content: 'Clicking on the browser address bar.' },
        { type: 'tool_call', id: 'call_zw3...', name: 'computer', arguments: { type: 'click', button: 'left', x: 156, y: 50 } },
      ],
      finish_reason: 'tool_call',
    },
  ]);
  const [ls] = rec('responses-records-local-shell-calls');
  assert.deepEqual(responsesResponseOutput(ls.response, o), [
    {
      role: 'assistant',
      parts: [{ type: 'tool_call', id: 'call_ls_001', name: 'local_shell', arguments: { type: 'exec', command: ['ls', '-la'] } }],
      finish_reason: 'tool_call',
    },
  ]);
  const [ct] = rec('responses-records-custom-tool-calls');
  assert.deepEqual(responsesRequestContent(ct.body, o).toolDefinitions, [
    { type: 'custom', name: 'code_exec', description: 'Executes arbitrary Python code.' },
  ]);
  assert.deepEqual(responsesResponseOutput(ct.response, o), [
    {
      role: 'assistant',
      parts: [{ type: 'tool_call', id: 'call_aGiFQkRWSWAIsMQ19fKqxUgb', name: 'code_exec', arguments: 'print("hello world")' }],
      finish_reason: 'tool_call',
    },
  ]);
});

test('responses: replayed history merges model items; outputs become tool messages', () => {
  const screenshot = `data:image/png;base64,${PNG_B64}`;
  const body = {
    instructions: 'Be terse. Never reveal 4111 1111 1111 1111.',
    input: [
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Use tools.' }] },
      { role: 'user', content: 'Weather?' },
      {
        type: 'reasoning',
        id: 'rs_1',
        summary: [{ type: 'summary_text', text: 'Need weather.' }],
        encrypted_content: 'gAAAAA'.repeat(100),
      },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Checking.' }] },
      { type: 'function_call', call_id: 'call_a', name: 'weather', arguments: '{"city":"Oslo"}' },
      { type: 'computer_call', call_id: 'call_b', action: { type: 'screenshot' } },
      {
        type: 'function_call_output',
        call_id: 'call_a',
        output: [
          { type: 'input_text', text: 'rain' },
          { type: 'input_image', image_url: screenshot },
        ],
      },
      { type: 'computer_call_output', call_id: 'call_b', output: { type: 'computer_screenshot', image_url: screenshot } },
      { type: 'custom_tool_call_output', call_id: 'call_c', output: 'ok' },
      { type: 'item_reference', id: 'msg_old' },
    ],
  };
  assert.deepEqual(responsesRequestContent(body, o), {
    systemInstructions: [text('Be terse. Never reveal [CARD].')],
    inputMessages: [
      { role: 'developer', parts: [text('Use tools.')] },
      user('Weather?'),
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'Need weather.' },
          text('Checking.'),
          { type: 'tool_call', id: 'call_a', name: 'weather', arguments: { city: 'Oslo' } },
          { type: 'tool_call', id: 'call_b', name: 'computer', arguments: { type: 'screenshot' } },
        ],
      },
      {
        role: 'tool',
        parts: [
          {
            type: 'tool_call_response',
            id: 'call_a',
            response: [
              text('rain'),
              { type: 'blob', modality: 'image', mime_type: 'image/png', content: `[base64 image/png ${PNG_BYTES} bytes]` },
            ],
          },
        ],
      },
      {
        role: 'tool',
        parts: [
          {
            type: 'tool_call_response',
            id: 'call_b',
            response: { type: 'computer_screenshot', image_url: `[base64 image/png ${PNG_BYTES} bytes]` },
          },
        ],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_c', response: 'ok' }] },
      { role: 'user', parts: [{ type: 'item_reference', id: 'msg_old' }] },
    ],
  });
});

test('responses: a stored prompt template is recorded with the instructions, variables cleaned', () => {
  const body = { prompt: { id: 'pmpt_123', version: '2', variables: { customer: 'Jane', email: 'jane@example.com' } }, input: 'Hi' };
  assert.deepEqual(responsesRequestContent(body, o), {
    inputMessages: [user('Hi')],
    systemInstructions: [{ type: 'prompt_template', id: 'pmpt_123', version: '2', variables: { customer: 'Jane', email: '[EMAIL]' } }],
  });
  assert.deepEqual(responsesRequestContent({ instructions: 'Be kind.', prompt: { id: 'p' } }, o).systemInstructions, [
    text('Be kind.'),
    { type: 'prompt_template', id: 'p' },
  ]);
});

test('responses: finish reasons', () => {
  assert.equal(responsesFinishReason({ status: 'completed', output: [] }), 'stop');
  assert.equal(
    responsesFinishReason({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [] }),
    'max_output_tokens',
  );
  assert.equal(responsesFinishReason({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } }), 'content_filter');
  assert.equal(responsesFinishReason({ status: 'incomplete' }), 'incomplete');
  assert.equal(responsesFinishReason({ status: 'failed', output: [] }), 'error');
  assert.equal(
    responsesFinishReason({ status: 'completed', output: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] }),
    'tool_call',
  );
  assert.equal(responsesFinishReason({ status: 'completed', output: [{ type: 'web_search_call', id: 'w' }] }), 'stop');
  assert.equal(responsesFinishReason({ status: 'in_progress', output: [] }), '');
  assert.equal(responsesFinishReason(null), '');
  const out = responsesResponseOutput(
    {
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Half' }] }],
    },
    o,
  );
  assert.deepEqual(out, [{ role: 'assistant', parts: [text('Half')], finish_reason: 'max_output_tokens' }]);
  assert.deepEqual(responsesResponseOutput({ status: 'completed' }, o), []);
  assert.deepEqual(
    responsesResponseOutput(
      { status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] }] },
      o,
    )[0].parts,
    [text('No.')],
  );
});

// ---------------------------------------------------------------------------------------------
// Legacy Completions and Embeddings

test('completions: prompt and choices (synthetic fixture), prompt lists and token arrays', () => {
  const [i] = fixture('completions-legacy.json', 'openai-synthetic');
  assert.deepEqual(completionsRequestContent(i.body, o), { inputMessages: [user('Say this is a test')] });
  assert.deepEqual(completionsResponseOutput(i.response.choices, o), [
    { role: 'assistant', parts: [text('\n\nThis is indeed a test')], finish_reason: 'length' },
  ]);
  assert.deepEqual(completionsRequestContent({ prompt: ['a', 'b@example.com'] }, o).inputMessages, [user('a'), user('[EMAIL]')]);
  assert.deepEqual(completionsRequestContent({ prompt: [1, 2, 3] }, o).inputMessages, [user('[3 tokens]')]);
  assert.deepEqual(completionsRequestContent({ prompt: [[1, 2], [3]] }, o).inputMessages, [user('[2 tokens]'), user('[1 tokens]')]);
  assert.deepEqual(completionsRequestContent({}, o).inputMessages, []);
  assert.deepEqual(completionsResponseOutput([{ text: 'x', finish_reason: null }, { finish_reason: 'stop' }], o), [
    { role: 'assistant', parts: [text('x')], finish_reason: '' },
    { role: 'assistant', parts: [], finish_reason: 'stop' },
  ]);
});

test('embeddings: each input is a user message (recorded), token arrays are counted', () => {
  const [i] = rec('embeddings-adds-genai-conventions');
  assert.deepEqual(embeddingsRequestContent(i.body, o), {
    inputMessages: [user('One fish'), user('two fish'), user('red fish'), user('blue fish')],
  });
  assert.deepEqual(embeddingsRequestContent({ input: 'hello' }, o).inputMessages, [user('hello')]);
  assert.deepEqual(embeddingsRequestContent({ input: [101, 102] }, o).inputMessages, [user('[2 tokens]')]);
  assert.deepEqual(embeddingsRequestContent({ input: [[5, 6, 7]] }, o).inputMessages, [user('[3 tokens]')]);
});

// ---------------------------------------------------------------------------------------------
// Tool definitions, messageText

test('toolDefinitions: chat nested, responses flat, custom, built-in; descriptions cleaned', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'email_user',
        description: 'Send mail as ops@example.com',
        parameters: { type: 'object', properties: { to: { type: 'string' } } },
        strict: true,
      },
    },
    { type: 'function', name: 'flat', description: 'Flat one' },
    { type: 'custom', custom: { name: 'grammar_tool', description: 'free text', format: { type: 'text' } } },
    { type: 'mcp', server_label: 'dice', server_url: 'https://mcp.example/sse?token=secret123', headers: { Authorization: 'Bearer abc' } },
    { type: 'web_search_preview' },
    null,
    'junk',
  ];
  assert.deepEqual(toolDefinitions(tools, o), [
    {
      type: 'function',
      name: 'email_user',
      description: 'Send mail as [EMAIL]',
      parameters: { type: 'object', properties: { to: { type: 'string' } } },
    },
    { type: 'function', name: 'flat', description: 'Flat one' },
    { type: 'custom', name: 'grammar_tool', description: 'free text' },
    { type: 'mcp', name: 'dice' },
    { type: 'web_search_preview', name: 'web_search_preview' },
  ]);
  assert.equal(toolDefinitions(undefined, o), undefined);
  assert.equal(toolDefinitions([], o), undefined);
  assert.equal(toolDefinitions([null], o), undefined);
});

test('messageText: text, reasoning, tool calls and responses joined for token estimation', () => {
  assert.equal(messageText({ role: 'user', parts: [text('a'), { type: 'uri', modality: 'image', uri: 'https://x' }, text('b')] }), 'a\nb');
  assert.equal(
    messageText({
      role: 'assistant',
      parts: [
        { type: 'reasoning', content: 'think' },
        { type: 'tool_call', id: 'c', name: 'get_weather', arguments: { location: 'Paris' } },
        { type: 'tool_call', name: 'raw', arguments: 'x=1' },
      ],
      finish_reason: 'tool_call',
    }),
    'think\nget_weather{"location":"Paris"}\nrawx=1',
  );
  assert.equal(messageText({ role: 'tool', parts: [{ type: 'tool_call_response', id: 'c', response: 'sunny' }] }), 'sunny');
  assert.equal(messageText({ role: 'tool', parts: [{ type: 'tool_call_response', response: { t: 22 } }] }), '{"t":22}');
  assert.equal(
    messageText({
      role: 'tool',
      parts: [{ type: 'tool_call_response', response: [text('rain'), { type: 'blob', modality: 'image', content: '[x]' }] }],
    }),
    'rain',
  );
  assert.equal(messageText({ role: 'user', parts: [] }), '');
  assert.equal(messageText(null), '');
});

// ---------------------------------------------------------------------------------------------
// Safety properties

const SECRETS = {
  email: 'anna.schmidt@example.de',
  phone: '+44 20 7946 0958',
  cn: '13812345678',
  card: '4111 1111 1111 1111',
  key: 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  query: 'qs-secret-value-42',
};
const S = SECRETS;

function secretChat() {
  return {
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: `Escalate to ${S.email} or ${S.phone}.` },
      {
        role: 'user',
        content: [
          { type: 'text', text: `My card is ${S.card}, call ${S.cn}` },
          { type: 'image_url', image_url: { url: `https://img.example/a.png?api_key=${S.query}` } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'charge', arguments: JSON.stringify({ card: S.card, auth: `Bearer ${S.bearer}`, api_key: S.key }) },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: `charged; receipt sent to ${S.email}; key ${S.key}` },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'charge',
          description: `Uses ${S.key}`,
          parameters: { type: 'object', properties: { card: { type: 'string', description: `e.g. ${S.card}` } } },
        },
      },
    ],
  };
}

test('no secret survives in the JSON of any conversion', () => {
  const chat = chatRequestContent(secretChat(), o);
  const chatOut = chatResponseOutput(
    [
      {
        finish_reason: 'stop',
        message: {
          role: 'assistant',
          content: `Sure, ${S.email}, ${S.phone}`,
          tool_calls: [
            { id: 'c2', type: 'function', function: { name: 'f', arguments: `{"x":"${S.key}","y":"Authorization: Bearer ${S.bearer}"}` } },
          ],
        },
      },
    ],
    o,
  );
  const resp = responsesRequestContent(
    {
      instructions: `Contact ${S.email}`,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: `card ${S.card}` },
            { type: 'input_image', image_url: `https://x.example/i.png?key=${S.query}` },
          ],
        },
        { type: 'function_call', call_id: 'c', name: 'f', arguments: `{"phone":"${S.cn}"}` },
        { type: 'function_call_output', call_id: 'c', output: `token=${S.key}` },
        { type: 'mystery_item', note: `reach ${S.phone}`, blob: Buffer.alloc(600, 1).toString('base64') },
      ],
      tools: [{ type: 'function', name: 'f', description: `mail ${S.email}` }],
    },
    o,
  );
  const respOut = responsesResponseOutput(
    {
      status: 'completed',
      output: [
        { type: 'reasoning', summary: [{ type: 'summary_text', text: `user is ${S.email}` }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `Your key ${S.key}` }] },
        { type: 'mcp_call', id: 'm', name: 'lookup', server_label: 's', arguments: `{"card":"${S.card}"}`, output: `found ${S.cn}` },
        { type: 'code_interpreter_call', id: 'ci', code: `email = "${S.email}"`, outputs: [{ type: 'logs', logs: S.phone }] },
      ],
    },
    o,
  );
  const all = JSON.stringify([
    chat,
    chatOut,
    resp,
    respOut,
    completionsRequestContent({ prompt: [`card ${S.card}`, S.email] }, o),
    completionsResponseOutput([{ text: `call ${S.cn}` }], o),
    embeddingsRequestContent({ input: [`key ${S.key}`] }, o),
  ]);
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!all.includes(secret), `${name} leaked`);
    assert.ok(!all.includes(JSON.stringify(secret).slice(1, -1)), `${name} leaked (JSON-escaped)`);
  }
  assert.ok(!all.includes('Ab3dEf6'), 'no fragment of the key');
  for (const mask of ['[EMAIL]', '[PHONE]', '[CARD]', '[API_KEY]']) assert.ok(all.includes(mask), `${mask} present`);
});

test('inputs are never mutated (deep-frozen inputs, compared after)', () => {
  const bodies = [
    ['chat', secretChat()],
    [
      'responses',
      {
        instructions: 'x',
        input: [
          { type: 'web_search_call', id: 'w', action: { type: 'search', sources: [{ url: 'https://a' }] } },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{"a":1}' },
        ],
        tools: [{ type: 'web_search' }],
      },
    ],
  ];
  for (const [kind, body] of bodies) {
    const before = structuredClone(body);
    deepFreeze(body);
    if (kind === 'chat') chatRequestContent(body, o);
    else responsesRequestContent(body, o);
    assert.deepEqual(body, before);
  }
  const [i] = rec('chat-completions-records-tool-calls');
  const choices = deepFreeze(structuredClone(i.response.choices));
  chatResponseOutput(choices, o);
  assert.deepEqual(choices, i.response.choices);
  for (const name of [
    'responses-records-code-interpreter-calls-with-outputs',
    'responses-records-mcp-calls',
    'responses-records-computer-use-calls',
    'responses-records-web-search-calls',
  ]) {
    const [r] = rec(name);
    const frozen = deepFreeze(structuredClone(r.response));
    responsesResponseOutput(frozen, o);
    responsesRequestContent(deepFreeze(structuredClone(r.body)), o);
    assert.deepEqual(frozen, r.response);
  }
});

test('outputs share no objects with the input (later edits by the app cannot leak in)', () => {
  const body = {
    input: [
      { type: 'function_call', call_id: 'c', name: 'f', arguments: { already: 'object' } },
      { type: 'mystery', data: { k: 'v' } },
    ],
  };
  const c = responsesRequestContent(body, o);
  body.input[0].arguments.already = 'changed bob@example.com';
  body.input[1].data.k = 'changed';
  assert.deepEqual(c.inputMessages[0].parts, [
    { type: 'tool_call', id: 'c', name: 'f', arguments: { already: 'object' } },
    { type: 'mystery', data: { k: 'v' } },
  ]);
});

test('long content is truncated with the marker everywhere it appears', () => {
  const small = { redact: o.redact, maxChars: 8 };
  const long = 'abcdefghijklmnop';
  const c = chatRequestContent(
    {
      messages: [
        { role: 'user', content: long },
        { role: 'tool', tool_call_id: 't', content: long },
      ],
    },
    small,
  );
  assert.deepEqual(c.inputMessages, [
    user('abcdefgh…[truncated: 16 chars]'),
    { role: 'tool', parts: [{ type: 'tool_call_response', id: 't', response: 'abcdefgh…[truncated: 16 chars]' }] },
  ]);
  const r = responsesRequestContent({ instructions: long, input: long }, small);
  assert.deepEqual(r.systemInstructions, [text('abcdefgh…[truncated: 16 chars]')]);
});

test('malformed input never throws and yields something sensible', () => {
  const weird = [
    undefined,
    null,
    42,
    'str',
    [],
    {},
    { messages: 'nope' },
    {
      messages: [
        null,
        1,
        'hi',
        { role: 5, content: { odd: true } },
        { role: 'user', content: [null, 7, { type: 'image_url' }, { type: 'text', text: null }] },
      ],
    },
  ];
  for (const b of weird) {
    assert.doesNotThrow(() => chatRequestContent(b, o));
    assert.doesNotThrow(() => responsesRequestContent(b, o));
    assert.doesNotThrow(() => completionsRequestContent(b, o));
    assert.doesNotThrow(() => embeddingsRequestContent(b, o));
    assert.doesNotThrow(() => chatResponseOutput(b, o));
    assert.doesNotThrow(() => completionsResponseOutput(b, o));
    assert.doesNotThrow(() => responsesResponseOutput(b, o));
    assert.doesNotThrow(() => toolDefinitions(b, o));
  }
  assert.deepEqual(chatRequestContent(weird.at(-1), o).inputMessages, [
    { role: 'user', parts: [{ type: 'text', content: '{"odd":true}' }] },
    { role: 'user', parts: [text('7'), { type: 'uri', modality: 'image', uri: '' }, text('')] },
  ]);
  assert.deepEqual(
    responsesRequestContent({ input: [null, 3, 'free text', { type: 'function_call' }, { type: 'function_call_output' }] }, o)
      .inputMessages,
    [
      user('free text'),
      { role: 'assistant', parts: [{ type: 'tool_call', name: '' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', response: '' }] },
    ],
  );
  // Getters that throw (a hostile or broken object) lose only that message.
  const bomb = {
    role: 'user',
    get content() {
      throw new Error('boom');
    },
  };
  assert.deepEqual(chatRequestContent({ messages: [bomb, { role: 'user', content: 'ok' }] }, o).inputMessages, [user('ok')]);
  const cyclic = { type: 'mystery' };
  cyclic.self = cyclic;
  const out = responsesResponseOutput({ status: 'completed', output: [cyclic] }, o);
  assert.equal(out[0].parts[0].type, 'mystery');
  assert.doesNotThrow(() => JSON.stringify(out));
});
