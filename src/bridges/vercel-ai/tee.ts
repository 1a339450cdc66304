// The AI SDK's tracer when the app registered its own global tracer provider (NodeSDK,
// `provider.register()`, @vercel/otel): every `ai.*` span goes to the app's tracer exactly as it
// would without llm-otel — the app's span is the one the SDK holds in its context, so the app's
// own children (HTTP, fetch) parent to it — and each call on it is mirrored onto llm-otel's record
// of the span (tracer.ts), so the call log and our GenAI spans get the same rows as with no provider.
// llm-otel's own parent chain rides in the context under a key of its own (TEE_KEY) beside the
// app's span: a nested `ai.*` span finds its llm-otel parent there while the app's span is active.

import {
  type Context,
  context,
  createContextKey,
  type Exception,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { InstrumentationRuntime } from '../../instrumentation/runtime.js';
import { type AiSpan, openAiSpan } from './tracer.js';

/** The app's span the SDK's code runs under, and llm-otel's span standing for it (null: none). */
interface TeeScope {
  app: Span;
  ours: Span | null;
}
const TEE_KEY = createContextKey('llm-otel vercel-ai tee');

/** Mirrors every call the SDK makes on a span onto llm-otel's; answers as the app's span does. */
class TeeSpan implements Span {
  constructor(
    readonly app: Span,
    readonly ours: AiSpan,
  ) {}

  private mirror(f: (s: AiSpan) => void): void {
    try {
      f(this.ours);
    } catch {
      /* never into the app */
    }
  }
  spanContext(): SpanContext {
    return this.app.spanContext();
  }
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.app.setAttribute(key, value);
    this.mirror((s) => s.setAttribute(key, value));
    return this;
  }
  setAttributes(attributes: SpanAttributes): this {
    this.app.setAttributes(attributes);
    this.mirror((s) => s.setAttributes(attributes));
    return this;
  }
  addEvent(name: string, a?: unknown, t?: TimeInput): this {
    (this.app.addEvent as (n: string, a?: unknown, t?: TimeInput) => Span)(name, a, t);
    this.mirror((s) => s.addEvent(name, a, t));
    return this;
  }
  addLink(link: Link): this {
    this.app.addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.app.addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.app.setStatus(status);
    this.mirror((s) => s.setStatus(status));
    return this;
  }
  updateName(name: string): this {
    this.app.updateName(name);
    return this;
  }
  isRecording(): boolean {
    return this.app.isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.app.recordException(exception, time);
    this.mirror((s) => s.recordException(exception, time));
  }
  end(endTime?: TimeInput): void {
    this.app.end(endTime);
    this.mirror((s) => s.end(endTime));
  }
}

/**
 * The context llm-otel's span for a new `ai.*` span starts from: the parent context with the
 * active span replaced by llm-otel's own where the app's active span is one the tee made.
 */
function ourParent(parent: Context): Context {
  const active = trace.getSpan(parent);
  if (active instanceof TeeSpan) return trace.setSpan(parent, active.ours);
  const scope = parent.getValue(TEE_KEY) as TeeScope | undefined;
  // Another span of the app's since (its own span inside a tool's execute): ours attach to that one.
  if (!scope || scope.app !== active) return parent;
  return scope.ours ? trace.setSpan(parent, scope.ours) : trace.deleteSpan(parent);
}

/** The app's tracer for `ai`, with llm-otel's mapping beside it. */
export class TeeTracer implements Tracer {
  constructor(
    readonly app: Tracer,
    private readonly runtime: () => InstrumentationRuntime | undefined,
  ) {}

  /** llm-otel's span for `name` and the context it starts from, or undefined (not recorded). */
  private ours(name: string, options: SpanOptions | undefined, parent: Context): { span: AiSpan | undefined; from: Context } | undefined {
    try {
      const rt = this.runtime();
      if (!rt?.enabled) return undefined;
      const from = ourParent(parent);
      return { span: openAiSpan(rt, name, options, from), from };
    } catch {
      return undefined;
    }
  }

  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    const parent = ctx ?? context.active();
    const span = this.app.startSpan(name, options, ctx);
    const ours = this.ours(name, options, parent)?.span;
    return ours ? new TeeSpan(span, ours) : span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args[args.length - 1] as (span: Span) => unknown;
    if (typeof fn !== 'function') return (this.app.startActiveSpan as (...a: unknown[]) => ReturnType<F>)(name, ...args);
    const options = (args.length >= 2 ? args[0] : undefined) as SpanOptions | undefined;
    const given = (args.length >= 3 ? args[1] : undefined) as Context | undefined;
    const mine = this.ours(name, options, given ?? context.active());
    if (!mine) return (this.app.startActiveSpan as (...a: unknown[]) => ReturnType<F>)(name, ...args);
    // The app's tracer is called with the same arguments; only the callback is ours.
    const wrapped = (appSpan: Span): unknown => {
      const ours = mine.span;
      let ctx = context.active();
      try {
        const prev = trace.getSpan(mine.from);
        ctx = (ours ? ours.scopeContext(ctx) : ctx).setValue(TEE_KEY, { app: appSpan, ours: ours ?? prev ?? null } satisfies TeeScope);
      } catch {
        /* the app's context as its tracer made it */
      }
      const span = ours ? new TeeSpan(appSpan, ours) : appSpan;
      const r = context.with(ctx, fn, undefined, span);
      // As VercelAiTracer does: the callback's result (the wire bodies) or error, observed only.
      if (ours && r instanceof Promise) {
        r.then(
          (value: unknown) => ours.settle({ value, failed: false }),
          (error: unknown) => ours.settle({ error, failed: true }),
        );
      }
      return r;
    };
    return (this.app.startActiveSpan as (...a: unknown[]) => ReturnType<F>)(name, ...args.slice(0, -1), wrapped);
  }
}
