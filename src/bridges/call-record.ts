// An LLM call that llm-otel's `openai` patch never sees — a framework sends the request itself (the
// Vercel AI SDK's providers, the OpenAI Agents SDK's WebSocket transport) — recorded like one it
// does: ids reserved as the call starts (as instrumentation/call.ts does), then one CallRecord,
// finished by the same code as an `openai` call (finish/, on the writer thread when there is one).

import { type Context, type Span, type SpanContext, SpanKind, TraceFlags, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { ErrorInfo } from '../adapters/errors.js';
import type { ServerInfo } from '../adapters/provider.js';
import type { ApiAdapter } from '../adapters/types.js';
import { getLlmContext, getParentCallId, type LlmContext } from '../context/context.js';
import type * as S from '../core/semconv.js';
import { type CallRecord, emitSpan, endSpan, parentRef, recordUnsampled, spanName, startAttributes } from '../finish/finish.js';
import type { InstrumentationRuntime } from '../instrumentation/runtime.js';
import { type ClientSecret, maskRecordSecret } from '../instrumentation/secret.js';

export interface BridgeCallStart {
  api: ApiAdapter['api'];
  server: ServerInfo;
  /** The model requested. */
  model: string | undefined;
  /** The context the call runs in (its parent span, llm context and parent call). */
  parent: Context;
  /** `performance.now()` when the call started (default: now). */
  started?: number;
}

/** How the call ended. Times are `performance.now()` values. */
export interface BridgeCallEnd {
  /** The API the request turned out to be, when it differs from the start's. */
  api?: ApiAdapter['api'];
  /** Where the request went, when known better than at the start. */
  server?: ServerInfo;
  status: S.LlmStatus;
  error?: ErrorInfo;
  /** The response (or a stream's accumulated result); undefined: none to read. */
  result?: unknown;
  /** The request as JSON (what was sent), else `body`, stringified here when the call is sampled. */
  bodyJson?: string;
  body?: Record<string, any>;
  endedAt: number;
  firstChunkAt?: number;
  requestId?: string;
  httpStatus?: number;
  /** The client's keys, masked out of the record before it leaves (instrumentation/secret.ts). */
  secret?: ClientSecret;
}

export class BridgeCall {
  readonly started: number;
  readonly traceId: string;
  readonly llm: LlmContext;
  readonly parentCallId: string | undefined;
  private readonly current: SpanContext;
  /** Eager mode (no reserved ids: a sampler other than the default): the span exists from the start. */
  private readonly span: Span | undefined;
  private readonly pending: { parent: Context; sampled: boolean } | undefined;
  private done = false;

  constructor(
    private readonly rt: InstrumentationRuntime,
    private readonly start: BridgeCallStart,
  ) {
    this.started = start.started ?? performance.now();
    const { parent } = start;
    this.llm = getLlmContext(parent);
    this.parentCallId = getParentCallId(parent);
    const ids = rt.reservedIds;
    if (ids && !isTracingSuppressed(parent)) {
      // As an openai call: ids now, the span when the call is finished.
      const up = trace.getSpanContext(parent);
      const valid = up !== undefined && trace.isSpanContextValid(up);
      this.traceId = valid ? up.traceId : ids.newTraceId();
      const traceFlags = valid ? up.traceFlags & TraceFlags.SAMPLED : TraceFlags.SAMPLED;
      this.current = { traceId: this.traceId, spanId: ids.newSpanId(), traceFlags };
      this.pending = { parent, sampled: (traceFlags & TraceFlags.SAMPLED) !== 0 };
    } else {
      const fields = { api: start.api, server: start.server, llm: this.llm, parentCallId: this.parentCallId, model: start.model, body: {} };
      this.span = rt
        .tracer()
        .startSpan(spanName(fields), { kind: SpanKind.CLIENT, attributes: startAttributes(fields, rt.content) }, parent);
      this.current = this.span.spanContext();
      this.traceId = this.current.traceId;
    }
    rt.callStarted?.();
  }

  spanContext(): SpanContext {
    return this.current;
  }

  /** False when nothing will be recorded (not sampled, and no metrics to count it): skip the work. */
  get wanted(): boolean {
    return !(this.pending !== undefined && !this.pending.sampled && !this.rt.recordUnsampled);
  }

  /** Sends the call's record (once). Call it off the app's await path (a deferred batch). */
  record(end: BridgeCallEnd): void {
    if (this.done) return;
    this.done = true;
    const rt = this.rt;
    const p = this.pending;
    const unsampled = p !== undefined && !p.sampled;
    if (unsampled && !rt.recordUnsampled) return;
    let bodyJson = end.bodyJson;
    if (bodyJson === undefined && !unsampled && end.body !== undefined) {
      try {
        bodyJson = JSON.stringify(end.body);
      } catch {
        bodyJson = undefined;
      }
    }
    const offset = Date.now() - performance.now();
    const rec: CallRecord = {
      rec: 1,
      api: end.api ?? this.start.api,
      server: end.server ?? this.start.server,
      llm: unsampled ? {} : this.llm,
      parentCallId: this.parentCallId,
      traceId: this.traceId,
      spanId: this.current.spanId,
      parent: undefined,
      started: this.started + offset,
      ended: end.endedAt + offset,
      firstChunkAt: end.firstChunkAt === undefined ? undefined : end.firstChunkAt + offset,
      status: end.status,
      result: end.result,
      resultJson: undefined,
      hasResult: end.result !== undefined,
      error: end.error,
      attempts: 1,
      requestId: end.requestId,
      httpStatus: end.httpStatus,
      bodyJson: unsampled ? undefined : bodyJson,
      body: undefined,
      model: this.start.model,
      unsampled: unsampled ? 1 : undefined,
    };
    if (end.secret) maskRecordSecret(rec, end.secret);
    if (p) {
      if (rt.offload) {
        rec.parent = parentRef(p.parent);
        if (rt.offload(rec)) return;
      }
      if (unsampled) recordUnsampled(rec, rt);
      else emitSpan(rec, rt, p.parent);
    } else if (this.span) {
      let body = end.body;
      if (body === undefined && bodyJson !== undefined) {
        try {
          body = JSON.parse(bodyJson);
        } catch {
          body = undefined;
        }
      }
      this.span.setAttributes(startAttributes({ ...rec, body: body ?? {} }, rt.content));
      endSpan(this.span, rec, rt);
    }
  }
}
