// A tiny loopback server that speaks the OpenAI wire format for `llm-otel demo`: chat completions
// (JSON and SSE streams, tool calls), embeddings, and scripted failures — no network, no API key.
//
// Models with behaviour:
//   demo-missing  — 404 model_not_found (not retried by the SDK)
// Header `x-demo-fail: 429-once`: 429 on the first attempt (x-stainless-retry-count: 0), then a
// normal answer — the SDK retries by itself.
//   anything else — answers; with `tools` and no tool result yet, it calls the first tool

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../../core/warn.js';
import { estimateChatTokens, estimateOutputTokens, estimateTextTokens } from '../../tokens/index.js';

export interface DemoServer {
  url: string;
  requests: number;
  close(): Promise<void>;
}

interface ChatBody {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown; tool_calls?: unknown }>;
  tools?: Array<{ type?: string; function?: { name?: string; parameters?: unknown } }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: number;
}

const RESPONSE_MODEL: Record<string, string> = {
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4o': 'gpt-4o-2024-08-06',
};

let seq = 0;
const id = (prefix: string): string => `${prefix}-demo${(++seq).toString(36).padStart(6, '0')}`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': id('req'),
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function lastUserText(body: ChatBody): string {
  for (const m of [...(body.messages ?? [])].reverse()) {
    if (m.role === 'user' && typeof m.content === 'string') return m.content;
  }
  return '';
}

function answerFor(body: ChatBody): { content: string | null; toolCall?: { id: string; name: string; arguments: string } } {
  const msgs = body.messages ?? [];
  const toolResult = [...msgs].reverse().find((m) => m.role === 'tool');
  const tool = body.tools?.find((t) => t.function?.name);
  if (tool && !toolResult) {
    const q = lastUserText(body);
    const city = /\b(Paris|London|Tokyo|Berlin|New York)\b/i.exec(q)?.[1] ?? 'Paris';
    return { content: null, toolCall: { id: id('call'), name: tool.function!.name!, arguments: JSON.stringify({ city }) } };
  }
  if (toolResult) return { content: `It is ${String(toolResult.content)} there right now — pack a light jacket.` };
  const q = lastUserText(body);
  if (/haiku/i.test(q)) return { content: 'Spans drift like leaves,\nevery token counted twice—\nno, once. The bill waits.' };
  return { content: `Here is a short answer to: "${q.slice(0, 60)}". Tracing made this call visible, with its tokens and cost.` };
}

function usageFor(
  body: ChatBody,
  content: string | null,
  toolCall?: { name: string; arguments: string },
): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
} {
  const model = body.model ?? 'gpt-4o-mini';
  const prompt = estimateChatTokens((body.messages as never) ?? [], body.tools as never, model);
  const completion = toolCall
    ? estimateOutputTokens({ tool_calls: [{ function: toolCall }] }, model)
    : estimateTextTokens(content ?? '', model);
  // Long prompts hit OpenAI's prompt cache in 128-token steps above 1024 tokens; show that too.
  const cached = prompt >= 1024 ? Math.floor(prompt / 128) * 128 - 128 : 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function chat(req: IncomingMessage, res: ServerResponse, body: ChatBody): void {
  const model = body.model ?? 'gpt-4o-mini';
  if (model === 'demo-missing') {
    send(res, 404, {
      error: {
        message: 'The model `demo-missing` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    });
    return;
  }
  if (req.headers['x-demo-fail'] === '429-once' && (req.headers['x-stainless-retry-count'] ?? '0') === '0') {
    send(
      res,
      429,
      {
        error: {
          message: `Rate limit reached for ${model} (demo). Please try again in 20ms.`,
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
      { 'retry-after-ms': '20' },
    );
    return;
  }
  const { content, toolCall } = answerFor(body);
  const usage = usageFor(body, content, toolCall);
  const created = Math.floor(Date.now() / 1000);
  const responseModel = RESPONSE_MODEL[model] ?? model;
  const chatId = id('chatcmpl');
  const finish = toolCall ? 'tool_calls' : 'stop';
  if (!body.stream) {
    send(res, 200, {
      id: chatId,
      object: 'chat.completion',
      created,
      model: responseModel,
      system_fingerprint: 'fp_demo',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            ...(toolCall
              ? { tool_calls: [{ id: toolCall.id, type: 'function', function: { name: toolCall.name, arguments: toolCall.arguments } }] }
              : {}),
            refusal: null,
          },
          logprobs: null,
          finish_reason: finish,
        },
      ],
      usage,
    });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': id('req') });
  const chunk = (delta: unknown, finishReason: string | null): string =>
    `data: ${JSON.stringify({ id: chatId, object: 'chat.completion.chunk', created, model: responseModel, system_fingerprint: 'fp_demo', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  const parts: string[] = [chunk({ role: 'assistant', content: '' }, null)];
  for (const word of (content ?? '').match(/\S+\s*/g) ?? []) parts.push(chunk({ content: word }, null));
  parts.push(chunk({}, finish));
  if (body.stream_options?.include_usage) {
    parts.push(
      `data: ${JSON.stringify({ id: chatId, object: 'chat.completion.chunk', created, model: responseModel, choices: [], usage })}\n\n`,
    );
  }
  parts.push('data: [DONE]\n\n');
  // A few milliseconds between chunks, so time-to-first-chunk and duration differ as in real life.
  let i = 0;
  const next = (): void => {
    if (i >= parts.length) {
      res.end();
      return;
    }
    res.write(parts[i++]);
    setTimeout(next, 8).unref();
  };
  next();
}

function embeddings(res: ServerResponse, body: { model?: string; input?: unknown }): void {
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
  const tokens = inputs.reduce((n, s) => n + estimateTextTokens(s, body.model), 0);
  send(res, 200, {
    object: 'list',
    model: body.model ?? 'text-embedding-3-small',
    data: inputs.map((s, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from({ length: 8 }, (_, k) => Math.sin(s.length + k)),
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

export async function startDemoServer(): Promise<DemoServer> {
  const state = { requests: 0 };
  const server: Server = createServer((req, res) => {
    state.requests++;
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      raw += c;
    });
    req.on('end', () => {
      try {
        const body = raw ? JSON.parse(raw) : {};
        const path = (req.url ?? '').replace(/\?.*$/, '');
        if (req.method === 'POST' && path.endsWith('/chat/completions')) chat(req, res, body);
        else if (req.method === 'POST' && path.endsWith('/embeddings')) embeddings(res, body);
        else send(res, 404, { error: { message: `demo server: no route ${req.method} ${path}`, type: 'invalid_request_error' } });
      } catch (e) {
        send(res, 400, { error: { message: `demo server: bad request (${errorMessage(e)})`, type: 'invalid_request_error' } });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
