// The two loopback peers of the overhead benchmarks, kept as light as possible: every microsecond
// they spend is CPU the measured app competes for on a small machine, and noise in its wall time.
//
//   node bench/lib/loopback-peers.mjs openai   → serves the bench's two chat requests (prints its base URL)
//   node bench/lib/loopback-peers.mjs otlp     → counts OTLP/HTTP spans per scope (prints its URL;
//                                                 a line on stdin asks for the counts as JSON)
//
// The OpenAI peer answers with recorded traffic: at start it asks the test suite's replay server
// (test/helpers/openai-server.mjs) once per request shape and then serves those exact bytes — same
// status, headers and body, SSE events written one per turn of the event loop, as that server
// does — without its per-request fixture matching and request log.
// The OTLP peer walks a protobuf request only as deep as scope names and span counts; it never
// decodes attributes (the test receiver does, in JavaScript, at a cost proportional to their number).

import http from 'node:http';
import { gunzipSync } from 'node:zlib';

const tick = () => new Promise((r) => setImmediate(r));

/** The two bench requests' recorded answers, taken from the test replay server. */
async function recordedAnswers(messages) {
  const { startOpenAIServer } = await import('../../test/helpers/openai-server.mjs');
  const full = await startOpenAIServer();
  try {
    const ask = async (body) => {
      const r = await fetch(`${full.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const headers = {};
      for (const [k, v] of r.headers)
        if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date'].includes(k)) headers[k] = v;
      return { status: r.status, headers, text: await r.text() };
    };
    const chat = await ask({ model: 'gpt-4o-mini', messages });
    const stream = await ask({ model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
    if (chat.status !== 200 || stream.status !== 200)
      throw new Error(`no recording for the bench requests (${chat.status}, ${stream.status})`);
    return {
      chat: { ...chat, body: Buffer.from(chat.text) },
      // One write per SSE event, as the replay server sends them.
      stream: {
        ...stream,
        events: stream.text
          .split(/(?<=\n\n)/)
          .filter(Boolean)
          .map((e) => Buffer.from(e)),
      },
    };
  } finally {
    await full.close();
  }
}

export async function startOpenAIPeer(messages) {
  const { chat, stream } = await recordedAnswers(messages);
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    if (!body.includes('"stream":true')) {
      res.writeHead(chat.status, { ...chat.headers, 'content-length': chat.body.length });
      res.end(chat.body);
      return;
    }
    res.writeHead(stream.status, stream.headers);
    res.flushHeaders();
    for (const ev of stream.events) {
      if (res.destroyed) return;
      res.write(ev);
      await tick();
    }
    res.end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { baseURL: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((r) => server.close(r)) };
}

// ---- OTLP: spans per scope, from the protobuf structure alone ----
function varint(buf, pos) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [v, pos];
    shift += 7;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field of the message in buf[start, end). */
function fields(buf, start, end, onField) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const wire = key & 7;
    const field = key >>> 3;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      onField(field, pos, pos + len);
      pos += len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

export function countSpansByScope(buf, counts) {
  fields(buf, 0, buf.length, (f, s, e) => {
    if (f !== 1) return; // ResourceSpans
    fields(buf, s, e, (f2, s2, e2) => {
      if (f2 !== 2) return; // ScopeSpans
      let scope = '';
      let n = 0;
      fields(buf, s2, e2, (f3, s3, e3) => {
        if (f3 === 1)
          fields(buf, s3, e3, (f4, s4, e4) => {
            if (f4 === 1) scope = buf.toString('utf8', s4, e4);
          });
        else if (f3 === 2) n += 1;
      });
      counts[scope] = (counts[scope] ?? 0) + n;
    });
  });
}

export async function startOtlpCounter() {
  const counts = {};
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        let buf = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
        // Metrics (llm-otel's GenAI histograms) are counted as requests, not walked as spans.
        if (/metrics\/?$/.test(String(req.url))) counts['metrics requests'] = (counts['metrics requests'] ?? 0) + 1;
        else countSpansByScope(buf, counts);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        res.end();
      } catch (e) {
        res.writeHead(400);
        res.end(String(e.message));
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, counts, close: () => new Promise((r) => server.close(r)) };
}

// As a child process of a benchmark.
if (import.meta.url === `file://${process.argv[1]}`) {
  const what = process.argv[2];
  if (what === 'openai') {
    const peer = await startOpenAIPeer(JSON.parse(process.argv[3]));
    console.log(peer.baseURL);
  } else if (what === 'otlp') {
    const peer = await startOtlpCounter();
    console.log(peer.url);
    process.stdin.on('data', async () => {
      await new Promise((r) => setTimeout(r, 300)); // exports already on the wire
      console.log(JSON.stringify(peer.counts));
    });
  } else {
    console.error('usage: loopback-peers.mjs openai <messages-json> | otlp');
    process.exit(2);
  }
}
