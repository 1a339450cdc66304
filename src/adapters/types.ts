// What each API family (chat, responses, completions, embeddings) contributes to a call's span.
// The shared lifecycle lives in call.ts; an adapter only reads request/response shapes.

import type { Attributes } from '@opentelemetry/api';
import type { ChatContent, ContentOptions, OutputMessage } from '../content/index.js';

export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

/** What a finished response (or an accumulated stream) tells us. */
export interface ResponseSummary {
  attributes: Attributes;
  usage?: Usage;
  /** Semconv output messages, built only when content is captured. */
  output?: (o: ContentOptions) => OutputMessage[];
  /** Plain output text for offline token estimation when the provider sent no usage. */
  outputText?: () => string;
}

export interface StreamAccumulator {
  onChunk(chunk: unknown): void;
  /**
   * The stream so far as a plain response-shaped object: `summarize(result())` describes it, so a
   * stream and a non-streamed response are finished by the same code (on either thread).
   */
  result(): unknown;
}

export interface ApiAdapter {
  /** llm_calls.api */
  api: 'chat.completions' | 'responses' | 'completions' | 'embeddings';
  /** gen_ai.operation.name */
  operation: 'chat' | 'text_completion' | 'embeddings';
  /** openai.api.type for chat-operation spans */
  apiType?: 'chat_completions' | 'responses';
  requestAttributes(body: Record<string, any>): Attributes;
  requestContent(body: Record<string, any>, o: ContentOptions): ChatContent;
  /** Request text for offline token estimation (messages + tool definitions). */
  estimateInputTokens?(body: Record<string, any>): number | undefined;
  summarize(result: any): ResponseSummary;
  accumulator(): StreamAccumulator;
}
