// A loopback HTTP server speaking the OpenAI wire format (JSON and SSE), for tests, benchmarks and
// demos. It replays recorded interactions (nock-back format, see test/fixtures/*/README.md) and
// plays scripted failures, and it records every request it receives so tests can assert on what
// the client really sent (retry counters, auth headers).
//
//   const server = await startOpenAIServer();
//   new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-test' });
//
// Choosing the response, first match wins:
//   1. `server.next(spec)` queue (in-process callers), spec = fixture name or { fixture, scenario }
//   2. request headers `x-fixture: <name>` and/or `x-scenario: <directives>` (child-process apps set
//      them with `defaultHeaders` or per-request `{ headers }`)
//   3. method + normalized path + request body (deep-equal, key order ignored) over all fixtures.
// Inside a fixture file with several interactions: the one whose body is deep-equal, else the one
// with the same number of messages/input items (multi-turn helpers such as runTools()), else the
// first one for that path.
//
// Scenario directives (comma separated, e.g. `fail:429:2,event-delay:5`):
//   fail:<status>:<n>   the first n attempts (by x-stainless-retry-count) answer <status> with an
//                       OpenAI error body and `retry-after-ms: 5`; later attempts replay the fixture
//   error:<status>      always answer <status> with an OpenAI error body (no retry-after)
//   delay:<ms>          wait before answering (longer than the client timeout → timeout)
//   drop-after:<n>      SSE: send n events, then destroy the socket; JSON: send half the body, destroy
//   hang-after:<n>      SSE: send n events, then never send more nor end the response
//   event-delay:<ms>    pause between SSE events (default: the server's eventDelayMs)
//   no-request-id       omit the x-request-id response header
//
// Computed responses (agents): `startOpenAIServer({ respond })` asks `respond(request)` first, with
// request = { method, path, headers, body }; it returns null (go on as above) or
// { status = 200, json } / { status = 200, sse: [event strings] } / { status, error: true } (an
// OpenAI error body). test/helpers/openai-agent-script.mjs makes one that drives agents (a tool call
// first, then a final answer).
//
// Standalone: `node test/helpers/openai-server.mjs [--port N] [--event-delay-ms N]` prints the base
// URL (http://127.0.0.1:N/v1) on stdout and serves until SIGINT/SIGTERM.
//
// Scripted replies (agent frameworks): `startOpenAIServer({ scripted })`, scripted({ method, path,
// body, headers }) → { json, status? } | { sse: events, status? } | null, asked before the fixtures
// (null: the fixtures answer). test/helpers/agent-replies.mjs plays tool calls and answers.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_FIXTURE_DIRS = [join(here, '..', 'fixtures', 'openai-recordings'), join(here, '..', 'fixtures', 'openai-synthetic')];

// Hop-by-hop and encoding headers from the recordings: we serve plain, length-delimited bodies.
const DROPPED_HEADERS = new Set(['transfer-encoding', 'content-length', 'connection', 'content-encoding', 'keep-alive']);

/** Fixture name as tests write it: file name without `openai-` prefix and `.json`. */
export function fixtureName(file) {
  return basename(file)
    .replace(/\.json$/, '')
    .replace(/^openai-/, '');
}

/** The resource part of an OpenAI-style path, whatever prefix (/v1, Azure deployments) precedes it. */
export function normalizePath(rawPath) {
  const path = rawPath.split('?')[0].replace(/\/+$/, '');
  const m = /\/(chat\/completions|completions|embeddings|responses|models)$/.exec(path);
  return m ? `/v1/${m[1]}` : path;
}

function decodeRecordedBody(response) {
  if (Array.isArray(response)) {
    if (response.length === 0) return { kind: 'empty' };
    const raw = Buffer.from(response.join(''), 'hex');
    // Recorded chat/embeddings bodies are gzip; serve them decompressed.
    const buf = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
    return { kind: 'json', text: buf.toString('utf8') };
  }
  if (typeof response === 'string') {
    const events = response
      .split(/\r?\n\r?\n/)
      .filter((e) => e.trim() !== '')
      .map((e) => `${e}\n\n`);
    return { kind: 'sse', events };
  }
  return { kind: 'json', text: JSON.stringify(response) };
}

function itemCount(body) {
  if (!body || typeof body !== 'object') return -1;
  if (Array.isArray(body.messages)) return body.messages.length;
  if (Array.isArray(body.input)) return body.input.length;
  return -1;
}

/** Loads every *.json fixture file of the given directories. Map name → interactions[]. */
export function loadFixtures(dirs = DEFAULT_FIXTURE_DIRS) {
  const fixtures = new Map();
  for (const dir of dirs) {
    let files;
    try {
      files = readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort();
    } catch {
      continue;
    }
    for (const file of files) {
      const name = fixtureName(file);
      const list = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      fixtures.set(
        name,
        list.map((it, index) => ({
          name,
          index,
          method: (it.method ?? 'POST').toUpperCase(),
          path: normalizePath(it.path ?? ''),
          body: it.body ?? null,
          status: it.status ?? 200,
          headers: it.rawHeaders ?? {},
          payload: decodeRecordedBody(it.response),
        })),
      );
    }
  }
  return fixtures;
}

/** Parses `fail:429:2,delay:100` into an object. Unknown directives throw (a test typo). */
export function parseScenario(text) {
  const s = {};
  if (!text) return s;
  for (const part of String(text)
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, a, b] = part.split(':');
    const int = (v, what) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`scenario ${JSON.stringify(part)}: ${what} must be a non-negative integer`);
      return n;
    };
    switch (name) {
      case 'fail':
        s.fail = { status: int(a, 'status'), times: b === undefined ? 1 : int(b, 'count') };
        break;
      case 'error':
        s.error = { status: int(a, 'status') };
        break;
      case 'delay':
        s.delayMs = int(a, 'delay');
        break;
      case 'drop-after':
        s.dropAfter = int(a, 'event count');
        break;
      case 'hang-after':
        s.hangAfter = int(a, 'event count');
        break;
      case 'event-delay':
        s.eventDelayMs = int(a, 'event delay');
        break;
      case 'no-request-id':
        s.noRequestId = true;
        break;
      default:
        throw new Error(`unknown scenario directive ${JSON.stringify(part)}`);
    }
  }
  return s;
}

const ERROR_BODIES = {
  400: {
    message: "Invalid value for 'temperature': expected a number between 0 and 2.",
    type: 'invalid_request_error',
    param: 'temperature',
    code: 'invalid_value',
  },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
  404: {
    message: 'The model `gpt-nonexistent` does not exist or you do not have access to it.',
    type: 'invalid_request_error',
    param: null,
    code: 'model_not_found',
  },
  429: {
    message: 'Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
  503: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null },
};

export function errorBody(status) {
  return { error: ERROR_BODIES[status] ?? { message: `HTTP ${status}`, type: 'server_error', param: null, code: null } };
}

/** Deterministic request id for responses whose recording has none. */
function syntheticRequestId(...parts) {
  return `req_${createHash('sha256').update(parts.join('#')).digest('hex').slice(0, 32)}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

/**
 * Starts the server. Options: { port = 0, host = '127.0.0.1', fixtureDirs, eventDelayMs = 0,
 * quiet = true }. Resolves to the server handle described in the file header.
 */
export async function startOpenAIServer(options = {}) {
  const { port = 0, host = '127.0.0.1', fixtureDirs = DEFAULT_FIXTURE_DIRS, eventDelayMs = 0, scripted = null, respond = null } = options;
  const fixtures = loadFixtures(fixtureDirs);
  const queue = [];
  const requests = [];
  const pending = new Set(); // timers and hung responses, released on close()

  function findFixture(name) {
    const list = fixtures.get(name) ?? fixtures.get(fixtureName(name));
    if (!list) throw new Error(`unknown fixture ${JSON.stringify(name)}`);
    return list;
  }

  function pickInteraction(list, method, path, body) {
    const samePath = list.filter((i) => i.method === method && i.path === path);
    const pool = samePath.length > 0 ? samePath : list;
    return (
      pool.find((i) => isDeepStrictEqual(i.body, body)) ??
      pool.find((i) => itemCount(i.body) >= 0 && itemCount(i.body) === itemCount(body)) ??
      pool[0]
    );
  }

  function matchByBody(method, path, body) {
    for (const list of fixtures.values()) {
      for (const i of list) {
        if (i.method === method && i.path === path && isDeepStrictEqual(i.body, body)) return i;
      }
    }
    return null;
  }

  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body = null;
    try {
      body = rawBody ? JSON.parse(rawBody) : null;
    } catch {
      body = rawBody;
    }
    const method = req.method.toUpperCase();
    const path = normalizePath(req.url);
    const retryCount = Number(req.headers['x-stainless-retry-count'] ?? 0) || 0;

    const reply = scripted ? scripted({ method, path, body, headers: req.headers }) : null;
    if (reply) return sendScripted(req, res, { method, url: req.url, path, headers: { ...req.headers }, rawBody, body, retryCount }, reply);
    if (respond) {
      const computed = await respond({ method, path, headers: { ...req.headers }, body });
      if (computed)
        return sendComputed(req, res, computed, { method, url: req.url, path, headers: { ...req.headers }, rawBody, body, retryCount });
    }

    const queued = queue.length > 0 ? queue.shift() : null;
    const spec = typeof queued === 'string' ? { fixture: queued } : (queued ?? {});
    const fixtureWanted = spec.fixture ?? req.headers['x-fixture'] ?? null;
    const record = {
      method,
      url: req.url,
      path,
      headers: { ...req.headers },
      rawBody,
      body,
      retryCount,
      fixture: null,
      scenario: spec.scenario ?? req.headers['x-scenario'] ?? null,
      status: null,
      requestId: null,
      outcome: 'pending',
    };
    requests.push(record);

    let scenario;
    let interaction = null;
    try {
      scenario = parseScenario(record.scenario);
      if (fixtureWanted) interaction = pickInteraction(findFixture(String(fixtureWanted)), method, path, body);
      else interaction = matchByBody(method, path, body);
    } catch (e) {
      return sendJson(
        res,
        record,
        400,
        {
          error: { message: `llm-otel test server: ${e.message}`, type: 'invalid_request_error', param: null, code: 'test_server_misuse' },
        },
        { 'x-request-id': syntheticRequestId('misuse', path) },
      );
    }
    record.fixture = interaction?.name ?? null;

    if (scenario.delayMs) {
      const aborted = await waitOrClose(req, res, scenario.delayMs);
      if (aborted) {
        record.outcome = 'client-closed';
        return;
      }
    }

    const idSeed = `${interaction?.name ?? path}#${interaction?.index ?? 0}`;
    const failing = scenario.error ?? (scenario.fail && retryCount < scenario.fail.times ? scenario.fail : null);
    if (failing) {
      const headers = { 'content-type': 'application/json' };
      if (!scenario.error) headers['retry-after-ms'] = '5';
      if (!scenario.noRequestId) headers['x-request-id'] = syntheticRequestId('scripted', failing.status, retryCount, idSeed);
      return sendJson(res, record, failing.status, errorBody(failing.status), headers);
    }

    if (!interaction) {
      return sendJson(
        res,
        record,
        404,
        {
          error: {
            message: `llm-otel test server: no fixture matches ${method} ${path} ${rawBody.slice(0, 200)}`,
            type: 'invalid_request_error',
            param: null,
            code: 'fixture_not_found',
          },
        },
        scenario.noRequestId ? {} : { 'x-request-id': syntheticRequestId('unmatched', method, path) },
      );
    }

    const headers = {};
    for (const [k, v] of Object.entries(interaction.headers)) {
      if (!DROPPED_HEADERS.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
    }
    if (scenario.noRequestId) delete headers['x-request-id'];
    else headers['x-request-id'] ??= syntheticRequestId(idSeed);

    const { payload } = interaction;
    if (payload.kind === 'empty') {
      // The recording of a connection error: there was no response at all.
      record.outcome = 'destroyed';
      req.socket.destroy();
      return;
    }
    if (payload.kind === 'json') {
      headers['content-type'] ??= 'application/json';
      if (scenario.dropAfter !== undefined) {
        record.status = interaction.status;
        record.requestId = headers['x-request-id'] ?? null;
        const buf = Buffer.from(payload.text);
        res.writeHead(interaction.status, { ...headers, 'content-length': buf.length });
        res.write(buf.subarray(0, buf.length >> 1));
        await tick();
        record.outcome = 'dropped';
        res.destroy();
        return;
      }
      return sendJson(res, record, interaction.status, payload.text, headers);
    }
    await sendSse(req, res, record, interaction.status, headers, payload.events, scenario);
  }

  async function sendScripted(req, res, base, reply) {
    const record = { ...base, fixture: null, scenario: 'scripted', status: null, requestId: null, outcome: 'pending' };
    requests.push(record);
    const headers = { 'x-request-id': syntheticRequestId('scripted-reply', requests.length) };
    if (reply.sse) return sendSse(req, res, record, reply.status ?? 200, headers, reply.sse, {});
    return sendJson(res, record, reply.status ?? 200, reply.json, { ...headers, 'content-type': 'application/json' });
  }

  /** A response made by the `respond` option (recorded like the others, fixture `computed`). */
  async function sendComputed(req, res, computed, base) {
    const record = { ...base, fixture: 'computed', scenario: null, status: null, requestId: null, outcome: 'pending' };
    requests.push(record);
    const status = computed.status ?? 200;
    const headers = { 'x-request-id': syntheticRequestId('computed', base.path, base.rawBody) };
    if (computed.error) return sendJson(res, record, status, errorBody(status), { ...headers, 'content-type': 'application/json' });
    if (computed.sse) return sendSse(req, res, record, status, headers, computed.sse, {});
    return sendJson(res, record, status, computed.json, { ...headers, 'content-type': 'application/json' });
  }

  function sendJson(res, record, status, body, headers) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    record.status = status;
    record.requestId = headers['x-request-id'] ?? null;
    record.outcome = 'sent';
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function sendSse(req, res, record, status, headers, events, scenario) {
    record.status = status;
    record.eventsSent = 0;
    record.requestId = headers['x-request-id'] ?? null;
    res.writeHead(status, {
      ...headers,
      'content-type': headers['content-type'] ?? 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
    res.flushHeaders();
    const gap = scenario.eventDelayMs ?? eventDelayMs;
    const limit = scenario.dropAfter ?? scenario.hangAfter ?? Infinity;
    let sent = 0;
    for (const ev of events) {
      if (sent >= limit) break;
      if (res.destroyed || req.socket.destroyed) {
        record.outcome = 'client-closed';
        return;
      }
      res.write(ev);
      sent += 1;
      record.eventsSent = sent;
      // Yield between events so each leaves as its own chunk: streams must be truly incremental.
      if (gap > 0) await sleep(gap);
      else await tick();
    }
    if (scenario.dropAfter !== undefined && sent >= limit) {
      record.outcome = 'dropped';
      req.socket.destroy();
      return;
    }
    if (scenario.hangAfter !== undefined && sent >= limit) {
      record.outcome = 'hanging';
      pending.add(res);
      res.on('close', () => pending.delete(res));
      return;
    }
    record.outcome = 'sent';
    res.end();
  }

  /** Waits ms, unless the client goes away first (then resolves true). */
  function waitOrClose(req, res, ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        pending.delete(t);
        res.off('close', onClose);
        resolve(false);
      }, ms);
      pending.add(t);
      const onClose = () => {
        clearTimeout(t);
        pending.delete(t);
        resolve(true);
      };
      res.once('close', onClose);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      try {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `llm-otel test server crashed: ${e?.message}`, type: 'server_error' } }));
      } catch {
        /* socket already gone */
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const url = `http://${host}:${actualPort}`;

  return {
    url,
    baseURL: `${url}/v1`,
    host,
    port: actualPort,
    fixtures,
    requests,
    /** Queue a fixture name or { fixture, scenario } for the next request(s), in order. */
    next(...specs) {
      queue.push(...specs);
      return this;
    },
    /** Recorded requests for a normalized path, e.g. '/v1/chat/completions'. */
    requestsTo(path) {
      return requests.filter((r) => r.path === path);
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
    },
    /** The response body a fixture interaction replays (parsed JSON, or SSE event strings). */
    fixtureBody(name, index = 0) {
      const p = findFixture(name)[index].payload;
      return p.kind === 'json' ? JSON.parse(p.text) : p.kind === 'sse' ? p.events : null;
    },
    async close() {
      for (const p of pending) {
        if (typeof p?.destroy === 'function') p.destroy();
        else clearTimeout(p);
      }
      pending.clear();
      server.closeAllConnections();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function cliArg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : dflt;
}

// `node --test test/` on Node 20 also runs every .mjs under a `test/` directory as a test file:
// never start the standalone server (which would run forever) inside the test runner.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && !process.env.NODE_TEST_CONTEXT) {
  const server = await startOpenAIServer({ port: cliArg('--port', 0), eventDelayMs: cliArg('--event-delay-ms', 0) });
  process.stdout.write(`${server.baseURL}\n`);
  const stop = () => {
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
