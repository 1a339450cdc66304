// Starts `llm-otel ui` as a real process on a free loopback port and talks to it over real HTTP
// (node:http, so tests can send any Host header and method). Importing this file has no side effects.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { BIN, callRow, message, traceId, writeItems } from './calllog.mjs';

/** Starts the dashboard on `db`; resolves once it printed its URL. */
export function startUi(db, extraArgs = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ui', '--db', db, '--no-open', '--port', '0', ...extraArgs], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal, stdout: out, stderr: err })));
    const timer = setTimeout(() => reject(new Error(`ui did not print a URL: ${out} ${err}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /llm-otel ui: (http:\/\/\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        const url = new URL(m[1]);
        resolve({
          child,
          url: m[1],
          port: Number(url.port),
          token: url.searchParams.get('token'),
          base: `http://127.0.0.1:${url.port}`,
          output: () => ({ stdout: out, stderr: err }),
          exited,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            return exited;
          },
        });
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`ui exited early: ${out} ${err}`));
    });
  });
}

/** One HTTP request; resolves to { status, headers, body (string) }. */
export function get(ui, path, { cookie = true, host, method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: ui.port,
        path,
        method,
        headers: {
          Host: host ?? `127.0.0.1:${ui.port}`,
          ...(cookie ? { Cookie: `llm_otel_ui=${cookie === true ? ui.token : cookie}` } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function getJson(ui, path, opts) {
  const r = await get(ui, path, opts);
  let json = null;
  try {
    json = JSON.parse(r.body);
  } catch {
    /* not JSON */
  }
  return { ...r, json };
}

export const EVIL_PROMPT = 'Summarise <img src=x onerror="window.__pwned=1"> and <script>window.__pwned=2</script> please';

/**
 * Extra rows for the dashboard tests: 7 calls of session "tie" started at the same instant (keyset
 * paging must break ties), a call whose prompt and answer carry HTML, and a failed call with a
 * distinctive error text. Times are recent so the default windows include them.
 */
export function uiItems(now = Date.now()) {
  const at = new Date(now - 3_600_000).toISOString();
  const items = [];
  for (let i = 0; i < 7; i++) {
    items.push({
      kind: 'call',
      messages: [],
      call: callRow({
        span_id: `d${String(i).padStart(15, '0')}`,
        trace_id: traceId(100 + i),
        session_id: 'tie',
        user_id: 'carol',
        request_model: 'gpt-4o-mini',
        started_at: at,
        cost: 0.001,
        currency: 'USD',
      }),
    });
  }
  items.push({
    kind: 'call',
    call: callRow({
      span_id: 'e000000000000001',
      trace_id: traceId(200),
      session_id: 'evil',
      user_id: 'mallory',
      request_model: 'gpt-4o',
      started_at: new Date(now - 1_800_000).toISOString(),
    }),
    messages: [
      message({ role: 'user', content: EVIL_PROMPT, content_chars: EVIL_PROMPT.length }),
      message({ direction: 'output', role: 'assistant', content: '<b onmouseover=alert(1)>bold</b>', content_chars: 33, truncated: 1 }),
    ],
  });
  items.push({
    kind: 'call',
    messages: [],
    call: callRow({
      span_id: 'e000000000000002',
      trace_id: traceId(201),
      request_model: 'gpt-4o',
      provider: 'azure',
      started_at: new Date(now - 1_700_000).toISOString(),
      status: 'timeout',
      error_type: 'APIConnectionTimeoutError',
      error_message: 'Request timed out (flux capacitor)',
      input_tokens: null,
      output_tokens: null,
    }),
  });
  return items;
}

export { writeItems };
