// The GenAI client metrics of the semantic conventions (v1.41, gen-ai-metrics.md) from a finished
// call: its record (operation, provider, server, request model, times) and its end attributes
// (response model, provider-reported usage, error type). Recorded through any OTel `Meter`: llm-otel's
// own meter provider (pipeline.ts), or the one an app gives OpenAIInstrumentation (NodeSDK).

import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { capField } from '../content/index.js';
import * as S from '../core/semconv.js';
import { ADAPTERS, type CallMetrics, type CallRecord } from '../finish/finish.js';

export const TOKEN_USAGE = 'gen_ai.client.token.usage';
export const OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** The client-side metric for streams (the server-side one is gen_ai.server.time_to_first_token). */
export const TIME_TO_FIRST_CHUNK = 'gen_ai.client.operation.time_to_first_chunk';
export const GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';

/** The ExplicitBucketBoundaries the conventions recommend. */
export const TOKEN_BOUNDARIES = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
export const SECONDS_BOUNDARIES = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

/** What one finished call adds to the metrics. */
export interface CallPoint {
  /** The attributes every metric shares (without error.type and gen_ai.token.type). */
  common: Attributes;
  errorType?: string;
  /** Seconds. */
  duration: number;
  /** Seconds, streams only. */
  timeToFirstChunk?: number;
  /** As the provider reported them; estimates are not recorded (the conventions allow them only on request). */
  inputTokens?: number;
  outputTokens?: number;
}

export function callPoint(rec: CallRecord, attrs: Attributes): CallPoint {
  const common: Attributes = {
    [S.GEN_AI_OPERATION_NAME]: ADAPTERS[rec.api].operation,
    [S.GEN_AI_PROVIDER_NAME]: rec.server.provider,
  };
  if (rec.model) common[S.GEN_AI_REQUEST_MODEL] = capField(rec.model);
  const responseModel = attrs[S.GEN_AI_RESPONSE_MODEL];
  if (typeof responseModel === 'string') common[S.GEN_AI_RESPONSE_MODEL] = responseModel;
  if (rec.server.address) {
    common[S.SERVER_ADDRESS] = rec.server.address;
    if (rec.server.port !== undefined) common[S.SERVER_PORT] = rec.server.port;
  }
  const point: CallPoint = { common, duration: Math.max(0, rec.ended - rec.started) / 1000 };
  const errorType = attrs[S.ERROR_TYPE];
  if (typeof errorType === 'string') point.errorType = errorType;
  if (rec.firstChunkAt !== undefined) point.timeToFirstChunk = Math.max(0, rec.firstChunkAt - rec.started) / 1000;
  if (attrs[S.LLM_OTEL_USAGE_SOURCE] === 'provider') {
    const input = attrs[S.GEN_AI_USAGE_INPUT_TOKENS];
    const output = attrs[S.GEN_AI_USAGE_OUTPUT_TOKENS];
    if (typeof input === 'number') point.inputTokens = input;
    if (typeof output === 'number') point.outputTokens = output;
  }
  return point;
}

/** The three histograms on one meter, with the recommended buckets as advice. */
export class GenAiInstruments implements CallMetrics {
  private readonly tokens: Histogram;
  private readonly duration: Histogram;
  private readonly ttfc: Histogram;

  constructor(meter: Meter) {
    this.tokens = meter.createHistogram(TOKEN_USAGE, {
      description: 'Number of input and output tokens used.',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_BOUNDARIES },
    });
    this.duration = meter.createHistogram(OPERATION_DURATION, {
      description: 'GenAI operation duration.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BOUNDARIES },
    });
    this.ttfc = meter.createHistogram(TIME_TO_FIRST_CHUNK, {
      description:
        'Time to receive the first chunk, measured from when the client issues the generation request to when the first chunk is received in the response stream.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BOUNDARIES },
    });
  }

  record(rec: CallRecord, attrs: Attributes): void {
    this.recordPoint(callPoint(rec, attrs));
  }

  recordPoint(p: CallPoint): void {
    this.duration.record(p.duration, p.errorType === undefined ? p.common : { ...p.common, [S.ERROR_TYPE]: p.errorType });
    if (p.timeToFirstChunk !== undefined) this.ttfc.record(p.timeToFirstChunk, p.common);
    if (p.inputTokens !== undefined) this.tokens.record(p.inputTokens, { ...p.common, [GEN_AI_TOKEN_TYPE]: 'input' });
    if (p.outputTokens !== undefined) this.tokens.record(p.outputTokens, { ...p.common, [GEN_AI_TOKEN_TYPE]: 'output' });
  }
}

/** Instruments on whatever meter `meter()` returns now (an instrumentation's meter can be replaced). */
export class MeterMetrics implements CallMetrics {
  private meter: Meter | undefined;
  private instruments: GenAiInstruments | undefined;

  constructor(private readonly getMeter: () => Meter) {}

  record(rec: CallRecord, attrs: Attributes): void {
    const m = this.getMeter();
    if (m !== this.meter || !this.instruments) {
      this.meter = m;
      this.instruments = new GenAiInstruments(m);
    }
    this.instruments.record(rec, attrs);
  }
}
