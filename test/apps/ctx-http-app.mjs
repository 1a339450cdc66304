// HTTP app of test/32-context-http.test.mjs: a node:http server WITHOUT any
// HTTP instrumentation, so it takes the upstream trace context and W3C baggage from the request
// headers itself — the snippet the README shows:
//
//   const ctx = propagation.extract(context.active(), req.headers);
//   context.with(ctx, () => handle(req, res));
//
// Routes (each answers JSON):
//   /chat      withAgent('http-agent') → one chat call  (session/user from baggage, parent from
//              the request's traceparent)
//   /override  withLlmContext({ sessionId: `override-i` }) → withAgent → call (user from baggage)
//   /propagate withLlmContext({ sessionId, userId, propagate: true }) → withAgent('caller'):
//              propagation.inject into a headers object, a call, then GET /downstream with those
//              headers; answers the injected headers and the downstream's answer
//   /downstream withAgent('downstream') → call                   (everything from the headers)
// The app drives itself: from the root context it sends concurrent requests to its own server
// (baggage headers per request, see below), prints one JSON line per request, closes, exits.
//
// Environment: TEST_OPENAI_URL, TEST_REQUESTS (per route, default 20).

import http from 'node:http';
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { getLlmContext, withAgent, withLlmContext } from 'llm-otel';
import OpenAI from 'openai';

const BOUVET = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const FIXTURE = { headers: { 'x-fixture': 'chat-completions-adds-genai-conventions' } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const n = Number(process.env.TEST_REQUESTS || 20);
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-context', maxRetries: 0 });
  let port;

  async function chat(step) {
    await sleep(Math.floor(Math.random() * 10));
    const r = await withLlmContext({ metadata: { step } }, () =>
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, FIXTURE),
    );
    return r.choices[0].message.content;
  }

  function get(path, headers) {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode, body: JSON.parse(body) });
          } catch (e) {
            reject(e);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const i = url.searchParams.get('i');
    let body;
    switch (url.pathname) {
      case '/chat':
        body = await withAgent('http-agent', async () => ({ seen: getLlmContext(), answer: await chat('chat') }));
        break;
      case '/override':
        body = await withLlmContext({ sessionId: `override-${i}` }, () =>
          withAgent('http-agent', async () => ({ seen: getLlmContext(), answer: await chat('override') })),
        );
        break;
      case '/propagate':
        body = await withLlmContext({ sessionId: `prop-s-${i}`, userId: `prop-u-${i}`, propagate: true }, () =>
          withAgent('caller', async () => {
            const headers = {};
            propagation.inject(context.active(), headers);
            const answer = await chat('caller');
            const downstream = await get(`/downstream?i=${i}`, headers);
            return { headers, answer, downstream: downstream.body };
          }),
        );
        break;
      case '/downstream':
        body = await withAgent('downstream', async () => ({ seen: getLlmContext(), answer: await chat('downstream') }));
        break;
      default:
        res.writeHead(404).end();
        return;
    }
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const server = http.createServer((req, res) => {
    // No HTTP instrumentation in this app: extract traceparent + baggage from the headers ourselves.
    const ctx = propagation.extract(context.active(), req.headers);
    context
      .with(ctx, () => handle(req, res))
      .catch((e) => {
        res.writeHead(500).end(JSON.stringify({ error: String(e?.message ?? e) }));
      });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;

  const requests = [];
  for (let i = 0; i < n; i++) {
    // %3B is an encoded ';' (W3C baggage values are percent-encoded); other members are ignored.
    // With an upstream traceparent (trace id 0…0<i+1>, span id f…f<i>): our spans join that trace.
    const traceparent = `00-${String(i + 1).padStart(32, '0')}-${String(i).padStart(16, 'f')}-01`;
    requests.push({ route: 'chat', i, headers: { traceparent, baggage: `session.id=http-s-${i}%3Bx,user.id=http-u-${i},tenant=acme` } });
    requests.push({ route: 'override', i, headers: { baggage: `user.id=ov-u-${i},session.id=ov-s-${i}` } });
    requests.push({ route: 'propagate', i, headers: { baggage: `session.id=up-s-${i},tenant=acme` } });
  }
  requests.push({ route: 'chat', i: 'nobaggage', headers: {} });
  // The client side runs in the root context: nothing reaches the server except the headers.
  const answers = await context.with(ROOT_CONTEXT, () =>
    Promise.all(
      requests.map(async (r) => {
        await sleep(Math.floor(Math.random() * 10));
        const res = await get(`/${r.route}?i=${r.i}`, r.headers);
        return { route: r.route, i: r.i, ...res };
      }),
    ),
  );
  for (const a of answers) process.stdout.write(`${JSON.stringify(a)}\n`);
  server.close();
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
