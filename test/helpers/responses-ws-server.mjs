// A loopback server for the Responses API over WebSocket, the transport the OpenAI Agents SDK uses
// with `setOpenAIResponsesTransport('websocket')` (OpenAIResponsesWSModel): the client opens
// ws://…/v1/responses and sends one `{ type: 'response.create', …request, stream: true }` text frame
// per model request; the server answers with the Responses streaming events as JSON text frames
// (`response.created` … `response.completed`), the same events the HTTP API sends as SSE. The model's
// moves come from test/helpers/agent-replies.mjs (directives in the instructions).
//
//   const server = await startResponsesWsServer({ WebSocketServer });   // the `ws` package's class
//   OPENAI_BASE_URL = server.baseURL                                     // http://127.0.0.1:N/v1
//
// Extra directives in the instructions, for failures:
//   [[ws:error]]       answer with an `error` event (a 400 invalid_request_error), nothing else
//   [[ws:drop-after]]  send `response.created` and the first delta event, then terminate the socket
// `server.requests`: every response.create frame, parsed ({ body, socket: n, outcome }).

import http from 'node:http';
import { agentReplies } from './agent-replies.mjs';

function eventsOf(reply) {
  if (!reply?.sse) return null;
  return reply.sse.map((chunk) => {
    const data = /^data: (.*)$/m.exec(chunk)?.[1];
    return JSON.parse(data);
  });
}

export async function startResponsesWsServer({ WebSocketServer }) {
  const requests = [];
  const sockets = new Set();
  let connections = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only');
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith('/v1/responses')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req) => {
    const n = ++connections;
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      let frame;
      try {
        frame = JSON.parse(String(data));
      } catch {
        ws.close(1003, 'not JSON');
        return;
      }
      if (frame?.type !== 'response.create') return;
      const { type: _type, ...body } = frame;
      const record = { body, socket: n, auth: req.headers.authorization ?? null, outcome: 'pending' };
      requests.push(record);
      const instructions = typeof body.instructions === 'string' ? body.instructions : '';
      if (instructions.includes('[[ws:error]]')) {
        ws.send(
          JSON.stringify({
            type: 'error',
            status: 400,
            error: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model `nope` does not exist.', param: 'model' },
          }),
        );
        record.outcome = 'error';
        return;
      }
      const events = eventsOf(agentReplies({ method: 'POST', path: '/v1/responses', body: { ...body, stream: true } }));
      if (!events) {
        ws.close(1011, 'no scripted reply');
        record.outcome = 'unscripted';
        return;
      }
      if (instructions.includes('[[ws:drop-after]]')) {
        for (const ev of events.slice(0, 2)) ws.send(JSON.stringify(ev));
        // Sent frames reach the client before the connection is torn down.
        setTimeout(() => ws.terminate(), 20);
        record.outcome = 'dropped';
        return;
      }
      for (const ev of events) ws.send(JSON.stringify(ev));
      record.outcome = 'completed';
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    reset() {
      requests.length = 0;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
