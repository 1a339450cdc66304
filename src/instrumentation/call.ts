// One openai `create()` call from start to the single end of its span.
//
// We never call `.then()` on the SDK's APIPromise (that reads the body and breaks `.parse()`,
// `.asResponse()`, `.withResponse()`). Instead we hook the instance's `parseResponse` (sees the
// parsed object or the Stream), its `_thenUnwrap` (derived promises of helpers like `parse()`;
// openai ≥ 7.5 builds those from closures that bypass `this.parseResponse`) and observe its
// internal `responsePromise` (headers, HTTP errors, retries exhausted, timeouts, aborts).

import { type Context, type Span, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { classifyError, type ErrorInfo } from '../adapters/errors.js';
import { isAzureClient, providerFromBaseURL, type ServerInfo } from '../adapters/provider.js';
import type { ApiAdapter } from '../adapters/types.js';
import { getLlmContext, getParentCallId, type LlmScope, setLlmScope } from '../context/context.js';
import { activeContext } from '../context/sources.js';
import type * as S from '../core/semconv.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import {
  type CallRecord,
  type CallStartFields,
  emitSpan,
  endSpan,
  parentRef,
  recordUnsampled,
  spanName,
  startAttributes,
} from '../finish/finish.js';
import { hasResponsePromise, watchResponse } from './api-promise.js';
import { defer } from './deferred.js';
import type { InstrumentationRuntime } from './runtime.js';
import { clientSecret, maskAttributes, maskRecordSecret } from './secret.js';
import { isSdkStream, wrapStream } from './stream.js';

const streamRegistry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<LlmCall>((call) => call.abandon('stream garbage-collected before it was consumed'))
    : undefined;

export class LlmCall implements LlmScope {
  readonly spanId: string;
  private readonly parentCtx: Context;
  private readonly current: Span;
  private ctxMemo: Context | undefined;
  /**
   * The context the request runs in when one is entered (patch.ts): the call's span, and the call
   * as the llm scope of its own request (nested spans get it as parent call; the fetch hook
   * finds it to count attempts). Built only when asked for.
   */
  get ctx(): Context {
    return (this.ctxMemo ??= setLlmScope(trace.setSpan(this.parentCtx, this.current), this));
  }
  /** The OTel span: created at the start (eager mode) or when the call has finished (lazy mode). */
  private span: Span | undefined;
  /** Lazy mode: the parent context and sampling decision the span will be created with. */
  private pending: { parent: Context; sampled: boolean } | undefined;
  attempts = 0;
  /** The request's JSON as the SDK sent it (set by the client's fetch hook, patch.ts). */
  sentBody: string | undefined;
  private ended = false;
  private registered = false;
  private resultSeen = false;
  private parseStarted = false;
  private started = 0;
  private firstChunkAt: number | undefined;
  private httpStatus: number | undefined;
  private requestId: string | undefined;
  /**
   * What the call started with, as plain data: the attributes are built from it when the call is
   * finished (finish.ts), off the app's await path — often on the writer thread.
   */
  private readonly start: CallStartFields & { traceId: string };

  constructor(
    private readonly rt: InstrumentationRuntime,
    private readonly adapter: ApiAdapter,
    /** Its API key is masked in the record before the record leaves this object (secret.ts). */
    private readonly client: any,
    body: Record<string, any>,
  ) {
    const parent = activeContext();
    const start = (this.start = {
      api: adapter.api,
      server: serverOf(client),
      llm: getLlmContext(parent),
      parentCallId: getParentCallId(parent),
      // Read for the start attributes in eager mode only; what is recorded is the JSON sent (sentBody).
      body,
      model: typeof body.model === 'string' ? body.model : undefined,
      traceId: '',
    });
    let current: Span;
    const ids = rt.reservedIds;
    if (ids && !isTracingSuppressed(parent)) {
      // Lazy: a placeholder with the span's future ids carries the context now; the real span is
      // built after the call (finish.ts), off the app's await path.
      const up = trace.getSpanContext(parent);
      const valid = up !== undefined && trace.isSpanContextValid(up);
      start.traceId = valid ? up.traceId : ids.newTraceId();
      this.spanId = ids.newSpanId();
      // Only with the default parent-based always-on sampler: sampled unless the parent is not.
      const traceFlags = valid ? up.traceFlags & TraceFlags.SAMPLED : TraceFlags.SAMPLED;
      current = trace.wrapSpanContext({ traceId: start.traceId, spanId: this.spanId, traceFlags });
      this.pending = { parent, sampled: (traceFlags & TraceFlags.SAMPLED) !== 0 };
    } else {
      const attributes = startAttributes(start, rt.content);
      const secret = clientSecret(client);
      if (secret) maskAttributes(attributes, secret);
      current = this.span = rt.tracer().startSpan(spanName(start), { kind: SpanKind.CLIENT, attributes }, parent);
      this.spanId = current.spanContext().spanId;
    }
    this.started = performance.now(); // TTFT counts from the span's start, as its duration does
    this.parentCtx = parent;
    this.current = current;
    rt.open.add(this);
    rt.callStarted?.();
  }

  /**
   * Watches the SDK's APIPromise without consuming it; returns what the app gets (the same
   * object, except a plain promise, which is replaced by one derived from it).
   */
  observe(p: any): any {
    if (!p || typeof p !== 'object') {
      this.finish();
      return p;
    }
    this.hookPromise(p);
    if (hasResponsePromise(p)) {
      // Headers, HTTP errors, retries exhausted, timeouts, aborts — without handling the app's rejection.
      watchResponse(
        p,
        (props) => this.onHeaders(props),
        (err) => this.fail(err),
      );
    } else if (Object.getPrototypeOf(p) === Promise.prototype) {
      // Not an APIPromise (an SDK build or a wrapper we do not know): the app gets a derived
      // promise, so a rejection it never handles stays unhandled.
      return p.then(
        (v: unknown) => {
          this.onResult(v);
          return v;
        },
        (err: unknown) => {
          this.fail(err);
          throw err;
        },
      );
    }
    return p;
  }

  private hookPromise(p: any): void {
    const call = this;
    const parse = p.parseResponse;
    if (typeof parse === 'function') {
      p.parseResponse = function parseResponseObserved(this: unknown, ...args: unknown[]) {
        call.parseStarted = true;
        let r: any;
        try {
          r = parse.apply(this, args);
        } catch (e) {
          call.fail(e);
          throw e;
        }
        if (r && typeof r.then === 'function') {
          // `r` is the plain promise of an async parse function, not an APIPromise.
          return r.then(
            (v: unknown) => {
              call.onResult(v);
              return v;
            },
            (e: unknown) => {
              call.fail(e);
              throw e;
            },
          );
        }
        call.onResult(r);
        return r;
      };
    }
    const unwrap = p._thenUnwrap;
    if (typeof unwrap === 'function') {
      p._thenUnwrap = function thenUnwrapObserved(this: unknown, ...args: unknown[]) {
        const derived = unwrap.apply(this, args);
        try {
          call.hookPromise(derived);
        } catch {
          /* observation is best-effort */
        }
        return derived;
      };
    }
  }

  private onHeaders(props: any): void {
    try {
      const res = props?.response;
      if (res && typeof res.status === 'number') this.httpStatus = res.status;
      const id = res?.headers?.get?.('x-request-id');
      if (typeof id === 'string' && id) this.requestId = id;
    } catch {
      /* headers are optional */
    }
    // Nobody parsed the body (`.asResponse()` only): end at the headers. Checked in the next
    // deferred batch, after the parse an awaiting app starts in this same turn.
    defer(() => {
      if (!this.parseStarted && !this.resultSeen) this.finish();
    });
  }

  private onResult(value: unknown): void {
    if (this.resultSeen || this.ended) return;
    this.resultSeen = true;
    try {
      if (value && typeof (value as any)._request_id === 'string' && !this.requestId) this.requestId = (value as any)._request_id;
      if (isSdkStream(value)) {
        wrapStream(value, this);
        // Unregistered when the call ends: the registry would otherwise hold this call (and what it
        // accumulated) until the stream object is collected, then run a callback that does nothing.
        streamRegistry?.register(value as object, this, this);
        this.registered = true;
        return;
      }
    } catch (e) {
      warnOnce('instrumentation:result', `could not read an openai result (${errorMessage(e)}); the call itself is unaffected`);
      this.finish();
      return;
    }
    // Read (summarized) when the call is finished, after the app's continuation.
    this.end('ok', { value }, undefined);
  }

  // ---- stream callbacks (stream.ts) ----
  private streamAccumulator: ReturnType<ApiAdapter['accumulator']> | undefined;
  onChunk(chunk: unknown): void {
    if (this.firstChunkAt === undefined) this.firstChunkAt = performance.now();
    try {
      (this.streamAccumulator ??= this.adapter.accumulator()).onChunk(chunk);
    } catch {
      /* a malformed chunk never breaks the stream */
    }
  }
  onStreamEnd(status: 'ok' | 'cancelled', err?: unknown): void {
    if (this.ended) return;
    let result: { value: unknown } | undefined;
    try {
      result = { value: (this.streamAccumulator ??= this.adapter.accumulator()).result() };
    } catch {
      result = undefined;
    }
    if (err !== undefined) this.fail(err, result);
    else this.end(status, result, undefined);
  }

  /** Ends a span whose result will never come (shutdown, GC of an unread stream). */
  abandon(reason: string): void {
    if (this.ended) return;
    if (this.resultSeen) this.onStreamEnd('cancelled');
    else this.end('cancelled', undefined, undefined);
    void reason;
  }

  fail(err: unknown, partial?: { value: unknown }): void {
    if (this.ended) return;
    const info = classifyError(err);
    if (info.httpStatus !== undefined) this.httpStatus = info.httpStatus;
    if (info.requestId) this.requestId = info.requestId;
    this.end(info.status, partial, info);
  }

  /** Ends without a result to read (`.asResponse()`, an unknown result shape). */
  finish(): void {
    if (this.ended) return;
    this.end('ok', undefined, undefined);
  }

  private end(status: S.LlmStatus, result: { value: unknown } | undefined, error: ErrorInfo | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.rt.open.delete(this);
    if (this.registered) streamRegistry?.unregister(this);
    // Times are taken now; everything else (summary, content, estimates, cost, the span itself)
    // happens after the app's continuation — on the writer thread when start() set one up.
    const now = performance.now();
    const offset = Date.now() - now; // OTel's own epoch conversion (SpanImpl) does the same
    const p = this.pending;
    // Not sampled (the parent said so): there is no span to build; only metrics, which count
    // every call, when they are on.
    const unsampled = p !== undefined && !p.sampled;
    if (unsampled && !this.rt.recordUnsampled) return;
    const start = this.start;
    // One fixed shape, every field assigned (no spread): this runs on the app's await path.
    const rec: CallRecord = {
      rec: 1,
      api: start.api,
      server: start.server,
      llm: unsampled ? {} : start.llm,
      parentCallId: start.parentCallId,
      traceId: start.traceId,
      spanId: this.spanId,
      parent: undefined,
      started: this.started + offset,
      ended: now + offset,
      firstChunkAt: this.firstChunkAt === undefined ? undefined : this.firstChunkAt + offset,
      status,
      result: result === undefined ? undefined : result.value,
      resultJson: undefined,
      hasResult: result !== undefined,
      error,
      attempts: this.attempts,
      requestId: this.requestId,
      httpStatus: this.httpStatus,
      bodyJson: unsampled ? undefined : (this.sentBody ?? jsonOf(start.body)),
      body: undefined,
      model: start.model,
      unsampled: unsampled ? 1 : undefined,
    };
    const secret = clientSecret(this.client);
    if (secret) maskRecordSecret(rec, secret);
    const rt = this.rt;
    if (p) {
      if (rt.offload) {
        // Only a record crossing threads needs its parent as plain data; here the context serves.
        rec.parent = parentRef(p.parent);
        if (rt.offload(rec)) return;
      }
      if (unsampled) defer(() => recordUnsampled(rec, rt));
      else defer(() => emitSpan(rec, rt, p.parent));
    } else {
      const span = this.span!;
      defer(() => endSpan(span, rec, rt));
    }
  }
}

function jsonOf(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

/** Provider and server of a client, cached per client (its baseURL is checked each time). */
const servers = new WeakMap<object, { baseURL: unknown; info: ServerInfo }>();
function serverOf(client: any): ServerInfo {
  if (!client || typeof client !== 'object') return providerFromBaseURL(undefined);
  const baseURL = client.baseURL;
  const hit = servers.get(client);
  if (hit && hit.baseURL === baseURL) return hit.info;
  const info = providerFromBaseURL(typeof baseURL === 'string' ? baseURL : undefined, isAzureClient(client));
  servers.set(client, { baseURL, info });
  return info;
}
