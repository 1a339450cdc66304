// Request attributes shared by the API families. 0 is a value, not absence (docs/spans.md).

import type { Attributes } from '@opentelemetry/api';
import { capField } from '../content/index.js';
import * as S from '../core/semconv.js';

export function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function setNum(attrs: Attributes, key: string, v: unknown): void {
  if (isNum(v)) attrs[key] = v;
}

/** A short string field (id, model, service tier…), capped at MAX_FIELD_CHARS with a marker. */
export function setStr(attrs: Attributes, key: string, v: unknown): void {
  if (typeof v === 'string' && v !== '') attrs[key] = capField(v);
}

export function commonSamplingAttributes(body: Record<string, any>, attrs: Attributes): void {
  setNum(attrs, S.GEN_AI_REQUEST_TEMPERATURE, body.temperature);
  setNum(attrs, S.GEN_AI_REQUEST_TOP_P, body.top_p);
  setNum(attrs, S.GEN_AI_REQUEST_FREQUENCY_PENALTY, body.frequency_penalty);
  setNum(attrs, S.GEN_AI_REQUEST_PRESENCE_PENALTY, body.presence_penalty);
  setNum(attrs, S.GEN_AI_REQUEST_SEED, body.seed);
  const stop = body.stop;
  if (typeof stop === 'string') attrs[S.GEN_AI_REQUEST_STOP_SEQUENCES] = [capField(stop)];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === 'string')) attrs[S.GEN_AI_REQUEST_STOP_SEQUENCES] = capList(stop);
  // Semconv: choice.count only when it is not 1.
  if (isNum(body.n) && body.n !== 1) attrs[S.GEN_AI_REQUEST_CHOICE_COUNT] = body.n;
  setStr(attrs, S.OPENAI_REQUEST_SERVICE_TIER, body.service_tier);
}

/** Finish reasons must be strings; null (still running) becomes ''. */
export function finishReason(v: unknown): string {
  return typeof v === 'string' ? capField(v) : '';
}

/** A list attribute from provider/app strings: at most MAX_LIST_ENTRIES, each capped. */
const MAX_LIST_ENTRIES = 128;

function capList(list: string[]): string[] {
  const n = Math.min(list.length, MAX_LIST_ENTRIES);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = capField(list[i]!);
  return out;
}

/**
 * Per-choice finish reasons (the first MAX_LIST_ENTRIES choices), or undefined when no choice
 * finished (a stream cut short).
 */
export function finishReasons(choices: any[]): string[] | undefined {
  const n = Math.min(choices.length, MAX_LIST_ENTRIES);
  const reasons = new Array<string>(n);
  let any = false;
  for (let i = 0; i < n; i++) {
    const r = (reasons[i] = finishReason(choices[i]?.finish_reason));
    if (r !== '') any = true;
  }
  return any ? reasons : undefined;
}

/** gen_ai.output.type from a requested format (chat `response_format`, Responses `text.format`). */
export function outputType(format: any): string | undefined {
  const t = format?.type;
  if (t === 'json_object' || t === 'json_schema') return 'json';
  if (t === 'text') return 'text';
  return undefined;
}
