// openai 7's X.509 workload identity on loopback: a CONNECT proxy whose tunnels to
// mtls.api.openai.com:443 and mtls.auth.openai.com:443 end in one mutual-TLS server (certificates in
// test/fixtures/x509/). That server answers the token exchange itself and forwards every API request
// to an HTTP upstream (the loopback OpenAI wire server), so scenarios and fixtures work as usual.
//
//   const peer = await startX509Peer({ upstream: server.url });
//   new OpenAI({ credential: workloadIdentity.fromX509({ ...peer.credential, identityProviderId, serviceAccountId }) })
//
// (`credential` carries the proxy URL and the CA: the SDK allows nothing else to redirect it.)

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'fixtures', 'x509');
const read = (f) => readFileSync(join(dir, f), 'utf8');
const HOSTS = new Set(['mtls.api.openai.com:443', 'mtls.auth.openai.com:443']);

/** Options: { upstream } (an http://host:port URL). Resolves to { proxyURL, credential, tokens, close() }. */
export async function startX509Peer({ upstream }) {
  const ca = read('ca.pem');
  const tokens = []; // one entry per token exchange: the client certificate's subject
  const sockets = new Set();

  const tlsOptions = { cert: read('server.pem'), key: read('server.key'), ca, requestCert: true, rejectUnauthorized: true };
  const api = https.createServer(tlsOptions, (req, res) => {
    if (req.url === '/oauth/token') {
      tokens.push(req.socket.getPeerCertificate?.()?.subject?.CN ?? null);
      req.resume();
      const body = JSON.stringify({
        access_token: `x509-test-token-${tokens.length}`,
        token_type: 'Bearer',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        expires_in: 3600,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    const out = http.request(`${upstream}${req.url}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });

  const proxy = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (!HOSTS.has(req.url)) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head?.length) socket.unshift(head);
    // The HTTPS server does the mutual-TLS handshake (and session resumption) on the tunnel.
    api.emit('connection', socket);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyURL = `http://127.0.0.1:${proxy.address().port}/`;

  return {
    proxyURL,
    tokens,
    /** The part of `workloadIdentity.fromX509()`'s options that points the SDK at this peer. */
    credential: {
      certificateChain: read('client.pem'),
      privateKey: read('client.key'),
      ca,
      proxy: { url: proxyURL, mode: 'http-connect' },
    },
    async close() {
      for (const s of sockets) s.destroy();
      api.closeAllConnections();
      await new Promise((r) => proxy.close(() => r()));
    },
  };
}
