// The OpenAI Agents SDK's Responses-over-WebSocket transport (`OpenAIResponsesWSModel` in
// `@openai/agents-openai`, `setOpenAIResponsesTransport('websocket')`): the SDK sends each model
// request as a `response.create` frame on its own socket, not through the `openai` package the
// patch records, so each request is recorded here as one LLM call (a CallRecord, call-record.ts).
//
// Hooked on the model class's prototype as the package loads, at `_fetchResponse` — the one method
// both its paths (`getResponse`, `getStreamedResponse`) send a request through, which the HTTP
// model's own `_fetchResponse` (reaching `openai`) never shares, so no call is recorded twice:
// - the request: what `_buildResponsesCreateRequest` built for it, the frame's body;
// - where: the URL the socket opens (the SDK reports it on the endpoint metadata it is handed);
// - streamed (`run(…, { stream: true })`): every event as it arrives (time to first chunk, the
//   terminal event's response or error), watched on the SDK's own iterator object;
// - not streamed: the SDK collapses the events itself; the call ends with the response it returns
//   or the error it throws.
// The SDK gets the same objects back and its timing is unchanged; llm-otel never fails its call.

import type { context } from '@opentelemetry/api';
import { classifyError, type ErrorInfo } from '../../adapters/errors.js';
import { isAzureClient, providerFromBaseURL, type ServerInfo } from '../../adapters/provider.js';
import { responsesAdapter } from '../../adapters/responses.js';
import type { StreamAccumulator } from '../../adapters/types.js';
import { activeContext } from '../../context/sources.js';
import type * as S from '../../core/semconv.js';
import { warnOnce } from '../../core/warn.js';
import { defer } from '../../instrumentation/deferred.js';
import { getRuntime, type InstrumentationRuntime } from '../../instrumentation/runtime.js';
import { clientSecret } from '../../instrumentation/secret.js';
import { BridgeCall } from '../call-record.js';

/** The package whose WebSocket model is hooked (the ESM loader hook must include it by name). */
export const AGENTS_OPENAI_MODULE = '@openai/agents-openai';

const PATCHED = Symbol.for('llm-otel.openai-agents-ws-model');

interface WsModel {
  _client?: { baseURL?: unknown };
}
type Fetch = (this: WsModel, request: unknown, stream: unknown, endpointMetadata: unknown, ...rest: unknown[]) => unknown;
type Build = (this: WsModel, ...args: unknown[]) => { requestData?: unknown } | undefined;

/** The request `_buildResponsesCreateRequest` builds inside the `_fetchResponse` being called now. */
let capturing: { model: WsModel; data: Record<string, any> | undefined } | undefined;

/** Hooks `OpenAIResponsesWSModel` of one copy (ESM or CJS build) of `@openai/agents-openai`. */
export function bridgeAgentsOpenAI(mod: unknown): void {
  const WS = (mod as { OpenAIResponsesWSModel?: unknown } | undefined)?.OpenAIResponsesWSModel;
  if (typeof WS !== 'function') return; // a version without the transport: nothing to record
  const proto = WS.prototype as Record<PropertyKey, unknown>;
  if (!proto || Object.hasOwn(proto, PATCHED)) return;
  const fetch = proto._fetchResponse as Fetch | undefined;
  const build = proto._buildResponsesCreateRequest as Build | undefined;
  if (typeof fetch !== 'function' || typeof build !== 'function') {
    warnOnce(
      'openai-agents:ws-shape',
      `${AGENTS_OPENAI_MODULE}'s OpenAIResponsesWSModel has an unknown shape; calls over its WebSocket transport are not recorded`,
    );
    return;
  }
  Object.defineProperty(proto, PATCHED, { value: true });

  proto._buildResponsesCreateRequest = function buildResponsesCreateRequestSeen(this: WsModel, ...args: unknown[]) {
    const built = build.apply(this, args);
    const slot = capturing;
    if (slot && slot.model === this) {
      capturing = undefined;
      const data = built?.requestData;
      if (data && typeof data === 'object') slot.data = data as Record<string, any>;
    }
    return built;
  };

  proto._fetchResponse = function fetchResponseRecorded(
    this: WsModel,
    request: unknown,
    stream: unknown,
    meta: unknown,
    ...rest: unknown[]
  ) {
    const rt = getRuntime();
    // Endpoint metadata is only ever written by the model (the URL it opens); a fresh object where
    // the SDK passed none lets llm-otel read it too.
    if (!rt?.enabled || (meta !== undefined && (meta === null || typeof meta !== 'object'))) {
      return fetch.call(this, request, stream, meta, ...rest);
    }
    let started: number;
    let parent: ReturnType<typeof context.active>;
    const endpoint = (meta ?? {}) as { requestURL?: unknown };
    const slot: NonNullable<typeof capturing> = { model: this, data: undefined };
    try {
      started = performance.now();
      // The SDK's current span (the response span of this request) names the run (index.ts).
      parent = activeContext();
    } catch {
      return fetch.call(this, request, stream, meta, ...rest);
    }
    capturing = slot;
    let p: unknown;
    try {
      // The request is built synchronously, before the method's first await.
      p = fetch.call(this, request, stream, endpoint, ...rest);
    } finally {
      if (capturing === slot) capturing = undefined;
    }
    if (!(p instanceof Promise)) return p;
    if (slot.data) {
      try {
        new WsCall(rt, this, slot.data, parent, started, stream === true, endpoint).observe(p);
      } catch {
        /* the app's call goes on unrecorded */
      }
    } else {
      // No request built: it failed validation before anything was sent (no call), unless the SDK
      // now builds it elsewhere — then a call succeeds unseen, and that is said once.
      p.then(
        () =>
          warnOnce('openai-agents:ws-request', `${AGENTS_OPENAI_MODULE}: a WebSocket request was not seen; such calls are not recorded`),
        () => undefined,
      );
    }
    return p;
  };
}

/** The server the socket opens (ws:// → http://, wss:// → https:// for the port), else the client's base URL. */
function serverOf(model: WsModel, url: unknown): ServerInfo {
  const azure = isAzureClient(model._client);
  if (typeof url === 'string' && URL.canParse(url)) {
    const u = new URL(url);
    if (u.protocol === 'ws:' || u.protocol === 'wss:')
      return providerFromBaseURL(`${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}/`, azure);
  }
  const base = model._client?.baseURL;
  return providerFromBaseURL(typeof base === 'string' ? base : undefined, azure);
}

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete', 'response.error', 'error']);

/** The class name openai's APIError.generate gives an HTTP error of this status. */
function errorClassOf(status: number | undefined): string {
  switch (status) {
    case 400:
      return 'BadRequestError';
    case 401:
      return 'AuthenticationError';
    case 403:
      return 'PermissionDeniedError';
    case 404:
      return 'NotFoundError';
    case 409:
      return 'ConflictError';
    case 422:
      return 'UnprocessableEntityError';
    case 429:
      return 'RateLimitError';
    default:
      return status !== undefined && status >= 500 ? 'InternalServerError' : 'APIError';
  }
}

/** An `error` event (the WebSocket transport's `{ status, error: {…} }`, or the SSE form `{ code, message }`). */
function errorEventInfo(ev: Record<string, any>): ErrorInfo {
  const detail = ev.error && typeof ev.error === 'object' ? ev.error : ev;
  const httpStatus = typeof ev.status === 'number' ? ev.status : undefined;
  const text = typeof detail.message === 'string' ? detail.message : 'error event';
  return {
    status: 'error',
    errorType: errorClassOf(httpStatus),
    httpStatus,
    message: httpStatus === undefined ? text : `${httpStatus} ${text}`,
  };
}

/** One model request over the socket, from `_fetchResponse` to its terminal event, error or end. */
class WsCall {
  private readonly call: BridgeCall;
  private readonly bodyJson: string | undefined;
  private firstChunkAt: number | undefined;
  private acc: StreamAccumulator | undefined;
  private ended = false;

  constructor(
    private readonly rt: InstrumentationRuntime,
    private readonly model: WsModel,
    data: Record<string, any>,
    parent: ReturnType<typeof context.active>,
    started: number,
    private readonly streamed: boolean,
    private readonly endpoint: { requestURL?: unknown },
  ) {
    // The frame's body as sent: every request over the socket is streamed (`stream: true`).
    try {
      this.bodyJson = JSON.stringify({ ...data, stream: true });
    } catch {
      this.bodyJson = undefined;
    }
    const modelName = typeof data.model === 'string' ? data.model : undefined;
    this.call = new BridgeCall(rt, { api: 'responses', server: serverOf(model, undefined), model: modelName, parent, started });
    rt.open.add(this);
  }

  observe(p: Promise<unknown>): void {
    p.then(
      (v) => {
        try {
          if (this.streamed) this.watch(v);
          else this.end('ok', v === undefined ? undefined : { value: v }, undefined);
        } catch {
          this.end('ok', undefined, undefined); // an iterator we cannot watch: the call, without its events
        }
      },
      (err) => this.fail(err),
    );
  }

  /** Watches the SDK's event iterator in place: the SDK reads the same object, event for event. */
  private watch(it: unknown): void {
    const iter = it as AsyncIterator<unknown> & Record<string, unknown>;
    if (!iter || typeof iter.next !== 'function') {
      this.end('ok', undefined, undefined);
      return;
    }
    const call = this;
    const next = iter.next;
    const ret = iter.return;
    const thr = iter.throw;
    const onValue = (r: IteratorResult<unknown>): void => {
      if (r?.done) call.end('ok', call.partial(), undefined);
      else call.onEvent(r?.value);
    };
    const onError = (err: unknown): void => call.fail(err);
    iter.next = function nextObserved(this: unknown, ...args: unknown[]) {
      const r = next.apply(this, args as []);
      if (r instanceof Promise) r.then(onValue, onError);
      return r;
    };
    if (typeof ret === 'function') {
      iter.return = function returnObserved(this: unknown, ...args: unknown[]) {
        // The SDK stopped reading before a terminal event (a run cancelled, an error in its loop).
        call.end('cancelled', call.partial(), undefined);
        return ret.apply(this, args as []);
      };
    }
    if (typeof thr === 'function') {
      iter.throw = function throwObserved(this: unknown, ...args: unknown[]) {
        call.fail(args[0]);
        return thr.apply(this, args as []);
      };
    }
  }

  private onEvent(ev: unknown): void {
    if (this.ended) return;
    if (this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
    if (!ev || typeof ev !== 'object') return;
    try {
      (this.acc ??= responsesAdapter.accumulator()).onChunk(ev);
    } catch {
      /* a malformed event never breaks the stream */
    }
    const type = (ev as { type?: unknown }).type;
    if (typeof type !== 'string' || !TERMINAL.has(type)) return;
    // The call ends with its terminal event, as the SDK's reading does. Failed and incomplete
    // responses are answers (their status is in the response), as for the HTTP transport;
    // an `error` event is the error the `openai` package throws for it over HTTP.
    if (type === 'error' || (type === 'response.error' && !(ev as { response?: unknown }).response)) {
      this.end('error', this.partial(), errorEventInfo(ev as Record<string, any>));
    } else {
      this.end('ok', this.partial(), undefined);
    }
  }

  private partial(): { value: unknown } | undefined {
    if (!this.acc) return undefined;
    try {
      return { value: this.acc.result() };
    } catch {
      return undefined;
    }
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    this.end(undefined, this.partial(), classifyError(err));
  }

  /** Ends a call whose end will never come (exit, shutdown): recorded as cancelled. */
  abandon(_reason: string): void {
    if (this.ended) return;
    this.end('cancelled', this.partial(), undefined, true);
  }

  private end(status: S.LlmStatus | undefined, result: { value: unknown } | undefined, error: ErrorInfo | undefined, now = false): void {
    if (this.ended) return;
    this.ended = true;
    this.rt.open.delete(this);
    const endedAt = performance.now();
    const record = (): void =>
      this.call.record({
        server: serverOf(this.model, this.endpoint.requestURL),
        status: status ?? error?.status ?? 'error',
        error,
        result: result?.value,
        bodyJson: this.bodyJson,
        endedAt,
        firstChunkAt: this.firstChunkAt,
        httpStatus: error?.httpStatus,
        requestId: error?.requestId,
        secret: clientSecret(this.model._client),
      });
    // After the app's continuation (exit paths drain the batch); at exit itself, now.
    if (now) record();
    else defer(record);
  }
}
