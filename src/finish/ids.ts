// Span ids known before the span exists. llm-otel creates an LLM call's OTel span only when the call
// has finished (off the app's await path), yet the request must already run inside a context that
// names that span: children (the app's HTTP spans, traceparent headers, nested llm-otel spans) point
// at it. So the ids are drawn up front and handed to the SDK's Tracer when the span is created.
// Only used with llm-otel's own tracer provider (register/start), whose IdGenerator this is.

import { type IdGenerator, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';

export class ReservedIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private traceId: string | undefined;
  private spanId: string | undefined;

  newTraceId(): string {
    return this.random.generateTraceId();
  }
  newSpanId(): string {
    return this.random.generateSpanId();
  }

  /** The next span the provider creates gets these ids; call release() right after. */
  reserve(traceId: string, spanId: string): void {
    this.traceId = traceId;
    this.spanId = spanId;
  }

  release(): void {
    this.traceId = undefined;
    this.spanId = undefined;
  }

  generateTraceId(): string {
    return this.traceId ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.spanId ?? this.random.generateSpanId();
  }
}
