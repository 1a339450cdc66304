// CostSpanProcessor: puts llm_otel.cost / llm_otel.currency / llm_otel.price_id on inference spans
// while they are ending, so every exporter (OTLP, the call log) sees the same cost.
// Uses SpanProcessor.onEnding (sdk-trace-base 2.x, marked experimental there): it runs inside
// span.end() before the span becomes read-only and before any processor's onEnd.

import type { Attributes, Context, HrTime } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as S from '../core/semconv.js';
import { errorMessage, warnOnce } from '../core/warn.js';
import { priceCall } from './db-prices.js';
import type { PriceBook } from './pricebook.js';

const NOT_INFERENCE = new Set(['invoke_agent', 'execute_tool', 'invoke_workflow', 'create_agent']);

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * The cost attributes (llm_otel.cost, .currency, .price_id) of an inference span with these
 * attributes, or null: not an inference, already priced upstream, or no price known. Throws only
 * on a broken price book.
 */
export function costAttributes(book: PriceBook, a: Attributes, startTime: HrTime): Record<string, string | number> | null {
  const op = a[S.GEN_AI_OPERATION_NAME];
  if (typeof op !== 'string' || NOT_INFERENCE.has(op)) return null;
  if (a[S.LLM_OTEL_COST] !== undefined) return null; // already priced upstream: keep it
  const priced = priceCall(book, {
    provider: str(a[S.GEN_AI_PROVIDER_NAME]),
    request_model: str(a[S.GEN_AI_REQUEST_MODEL]),
    response_model: str(a[S.GEN_AI_RESPONSE_MODEL]),
    input_tokens: num(a[S.GEN_AI_USAGE_INPUT_TOKENS]),
    output_tokens: num(a[S.GEN_AI_USAGE_OUTPUT_TOKENS]),
    cached_input_tokens: num(a[S.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]),
    reasoning_tokens: num(a[S.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]),
    started_at: new Date(startTime[0] * 1000 + startTime[1] / 1e6).toISOString(),
  });
  if (!priced) return null;
  const out: Record<string, string | number> = { [S.LLM_OTEL_COST]: priced.cost, [S.LLM_OTEL_CURRENCY]: priced.currency };
  if (priced.priceId !== null) out[S.LLM_OTEL_PRICE_ID] = priced.priceId;
  return out;
}

/** costAttributes that never throws: a failure is warned about once and leaves the cost empty. */
export function costAttributesOrNone(book: () => PriceBook, a: Attributes, startTime: HrTime): Record<string, string | number> | null {
  try {
    return costAttributes(book(), a, startTime);
  } catch (e) {
    warnOnce('cost:processor', `could not compute the cost of a call (${errorMessage(e)}); cost left empty`);
    return null;
  }
}

export interface CostSpanProcessorOptions {
  /** The prices: a book, or a function returning the current one (e.g. `() => source.book()`). */
  book: PriceBook | (() => PriceBook);
}

export class CostSpanProcessor implements SpanProcessor {
  private readonly getBook: () => PriceBook;

  constructor(opts: CostSpanProcessorOptions) {
    const b = opts.book;
    this.getBook = typeof b === 'function' ? b : () => b;
  }

  onStart(_span: Span, _ctx: Context): void {
    /* nothing to do at start */
  }

  onEnding(span: Span): void {
    const priced = costAttributesOrNone(this.getBook, span.attributes, span.startTime);
    if (priced) for (const k in priced) span.setAttribute(k, priced[k]!);
  }

  onEnd(_span: ReadableSpan): void {
    /* cost is set in onEnding */
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
