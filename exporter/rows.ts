// Pure mapping from a finished span to call-log rows (docs/database.md). No I/O, no clock: the same
// span always maps to the same rows, so tests can assert every column and the writer can retry.

import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as S from '../src/core/semconv.js';

export type CallStatus = S.LlmStatus;

/** One `llm_calls` row, column names exactly as in docs/database.md (`id` is assigned by SQLite). */
export interface CallRow {
  span_id: string;
  trace_id: string;
  parent_span_id: string | null;
  parent_call_id: string | null;
  service_name: string | null;
  session_id: string | null;
  user_id: string | null;
  agent_name: string | null;
  conversation_id: string | null;
  tags: string | null;
  metadata: string | null;
  operation: string;
  api: string | null;
  provider: string | null;
  server_address: string | null;
  server_port: number | null;
  request_model: string | null;
  response_model: string | null;
  response_id: string | null;
  request_id: string | null;
  temperature: number | null;
  top_p: number | null;
  max_tokens: number | null;
  stream: 0 | 1;
  finish_reasons: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  total_tokens: number | null;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  usage_source: string | null;
  cost: number | null;
  currency: string | null;
  price_id: number | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  ttft_ms: number | null;
  status: string;
  error_type: string | null;
  error_message: string | null;
  http_status: number | null;
  retry_count: number;
  attributes: string | null;
}

/** One `llm_messages` row without `call_id` (known only after the call row is inserted). */
export interface MessageRow {
  direction: 'input' | 'output';
  position: number;
  role: string | null;
  content: string | null;
  content_chars: number | null;
  truncated: 0 | 1;
  tool_calls: string | null;
  tool_call_id: string | null;
  name: string | null;
  token_estimate: number | null;
  /** The message's reasoning parts (redacted, truncated), joined by '\n'; not in `content`. */
  reasoning: string | null;
}

/** One `llm_runs` row (agent / tool / workflow span). */
export interface RunRow {
  span_id: string;
  trace_id: string;
  parent_span_id: string | null;
  parent_call_id: string | null;
  kind: 'agent' | 'tool' | 'workflow';
  name: string | null;
  session_id: string | null;
  user_id: string | null;
  agent_name: string | null;
  tool_call_id: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  status: string;
  error_message: string | null;
  attributes: string | null;
}

export interface CallItem {
  kind: 'call';
  call: CallRow;
  messages: MessageRow[];
}
export interface RunItem {
  kind: 'run';
  run: RunRow;
}
export type CallLogItem = CallItem | RunItem;

export const CALL_COLUMNS = [
  'span_id',
  'trace_id',
  'parent_span_id',
  'parent_call_id',
  'service_name',
  'session_id',
  'user_id',
  'agent_name',
  'conversation_id',
  'tags',
  'metadata',
  'operation',
  'api',
  'provider',
  'server_address',
  'server_port',
  'request_model',
  'response_model',
  'response_id',
  'request_id',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'finish_reasons',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'cached_input_tokens',
  'reasoning_tokens',
  'usage_source',
  'cost',
  'currency',
  'price_id',
  'started_at',
  'ended_at',
  'duration_ms',
  'ttft_ms',
  'status',
  'error_type',
  'error_message',
  'http_status',
  'retry_count',
  'attributes',
] as const satisfies readonly (keyof CallRow)[];

export const MESSAGE_COLUMNS = [
  'direction',
  'position',
  'role',
  'content',
  'content_chars',
  'truncated',
  'tool_calls',
  'tool_call_id',
  'name',
  'token_estimate',
  'reasoning',
] as const satisfies readonly (keyof MessageRow)[];

export const RUN_COLUMNS = [
  'span_id',
  'trace_id',
  'parent_span_id',
  'parent_call_id',
  'kind',
  'name',
  'session_id',
  'user_id',
  'agent_name',
  'tool_call_id',
  'started_at',
  'ended_at',
  'duration_ms',
  'status',
  'error_message',
  'attributes',
] as const satisfies readonly (keyof RunRow)[];

/** A row's values in the order of its columns (`Cols`): what a positional INSERT binds. */
type ValuesOf<Row, Cols extends readonly (keyof Row)[]> = { -readonly [I in keyof Cols]: Row[Cols[I] & keyof Row] };

/**
 * An `llm_calls` row's values in CALL_COLUMNS order, read field by field: `CALL_COLUMNS.map((c) =>
 * row[c])` reads 44 different keys at one site, each a megamorphic lookup, for every call written.
 */
export function callValues(c: CallRow): ValuesOf<CallRow, typeof CALL_COLUMNS> {
  return [
    c.span_id,
    c.trace_id,
    c.parent_span_id,
    c.parent_call_id,
    c.service_name,
    c.session_id,
    c.user_id,
    c.agent_name,
    c.conversation_id,
    c.tags,
    c.metadata,
    c.operation,
    c.api,
    c.provider,
    c.server_address,
    c.server_port,
    c.request_model,
    c.response_model,
    c.response_id,
    c.request_id,
    c.temperature,
    c.top_p,
    c.max_tokens,
    c.stream,
    c.finish_reasons,
    c.input_tokens,
    c.output_tokens,
    c.total_tokens,
    c.cached_input_tokens,
    c.reasoning_tokens,
    c.usage_source,
    c.cost,
    c.currency,
    c.price_id,
    c.started_at,
    c.ended_at,
    c.duration_ms,
    c.ttft_ms,
    c.status,
    c.error_type,
    c.error_message,
    c.http_status,
    c.retry_count,
    c.attributes,
  ];
}

/** An `llm_messages` row's values in MESSAGE_COLUMNS order (see callValues). */
export function messageValues(m: MessageRow): ValuesOf<MessageRow, typeof MESSAGE_COLUMNS> {
  return [
    m.direction,
    m.position,
    m.role,
    m.content,
    m.content_chars,
    m.truncated,
    m.tool_calls,
    m.tool_call_id,
    m.name,
    m.token_estimate,
    m.reasoning,
  ];
}

const RUN_KINDS: Record<string, RunRow['kind']> = {
  invoke_agent: 'agent',
  execute_tool: 'tool',
  invoke_workflow: 'workflow',
};

/**
 * What the call log needs from a span, as plain data: cheap to take on the app's thread and
 * structured-cloneable, so the mapping and the writes can run on the writer thread.
 */
export interface SpanData {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  serviceName: string | null;
  attributes: Attributes;
  /** SpanStatusCode (0 unset, 1 ok, 2 error). */
  statusCode: number;
  statusMessage: string | null;
  /** Epoch milliseconds (fractional). */
  startMs: number;
  endMs: number | null;
  durationMs: number | null;
}

/** True for spans the call log stores: anything carrying `gen_ai.operation.name`. */
export function isGenAiSpan(span: Pick<ReadableSpan, 'attributes'>): boolean {
  const op = span.attributes[S.GEN_AI_OPERATION_NAME];
  return typeof op === 'string' && op !== '';
}

/** The call-log view of a finished span; null for non-GenAI spans. Does not copy attributes. */
export function toSpanData(span: ReadableSpan): SpanData | null {
  if (!isGenAiSpan(span)) return null;
  const ctx = span.spanContext();
  const ended = span.ended !== false && isHr(span.endTime);
  const startMs = hrMs(span.startTime);
  const endMs = ended ? hrMs(span.endTime) : null;
  return {
    name: span.name,
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    serviceName: str(span.resource?.attributes?.['service.name']),
    attributes: span.attributes,
    statusCode: span.status?.code ?? 0,
    statusMessage: span.status?.message || null,
    startMs,
    endMs,
    durationMs: ended && isHr(span.duration) ? hrMs(span.duration) : endMs === null ? null : endMs - startMs,
  };
}

/** Rough memory a queued span costs (bytes): its strings dominate (message content). */
export function spanDataSize(d: SpanData): number {
  let n = 512;
  const a = d.attributes;
  for (const key in a) n += attributeSize(key, a[key]);
  return n;
}

function attributeSize(key: string, v: AttributeValue | undefined): number {
  if (typeof v === 'string') return 2 * v.length + key.length;
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) n += typeof x === 'string' ? 2 * x.length : 8;
    return n;
  }
  return 16;
}

/** Maps a GenAI span to its rows; null for non-GenAI spans. Never throws on odd attribute values. */
export function spanToItem(span: ReadableSpan): CallLogItem | null {
  const d = toSpanData(span);
  return d ? itemFromSpanData(d) : null;
}

/** Maps span data (see toSpanData) to its rows; null when it is not a GenAI span. */
export function itemFromSpanData(d: SpanData): CallLogItem | null {
  return itemWithSize(d)?.item ?? null;
}

/**
 * Values of JSON attributes already at hand, by attribute name: `value` is what `text` parses to,
 * and is used (only read) while the span's attribute is that very text. Where a span is made on
 * the thread that writes its rows, this saves parsing its content back.
 */
export type ParsedAttributes = ReadonlyMap<string, { text: string; value: unknown }>;

/** itemFromSpanData and spanDataSize together: a call's attributes are walked once for both. */
export function itemWithSize(d: SpanData, parsed?: ParsedAttributes): { item: CallLogItem; size: number } | null {
  const op = d.attributes[S.GEN_AI_OPERATION_NAME];
  if (typeof op !== 'string' || op === '') return null;
  const runKind = RUN_KINDS[op] ?? runKindAttr(d.attributes[S.LLM_OTEL_RUN_KIND]);
  if (runKind) return { item: { kind: 'run', run: toRun(d, runKind) }, size: spanDataSize(d) };
  const rest = unmapped(d.attributes, CALL_MAPPED);
  return { item: toCall(d, op, rest, parsed), size: rest.size };
}

// ── calls ────────────────────────────────────────────────────────────────────────────────────────

/** Attributes with a column of their own (or consumed into messages); the rest go to `attributes`. */
const CALL_MAPPED = new Set<string>([
  S.GEN_AI_OPERATION_NAME,
  S.LLM_OTEL_PARENT_CALL_ID,
  S.SESSION_ID,
  S.USER_ID,
  S.GEN_AI_AGENT_NAME,
  S.GEN_AI_CONVERSATION_ID,
  S.LLM_OTEL_TAGS,
  S.LLM_OTEL_API,
  S.GEN_AI_PROVIDER_NAME,
  S.SERVER_ADDRESS,
  S.SERVER_PORT,
  S.GEN_AI_REQUEST_MODEL,
  S.GEN_AI_RESPONSE_MODEL,
  S.GEN_AI_RESPONSE_ID,
  S.LLM_OTEL_REQUEST_ID,
  S.GEN_AI_REQUEST_TEMPERATURE,
  S.GEN_AI_REQUEST_TOP_P,
  S.GEN_AI_REQUEST_MAX_TOKENS,
  S.GEN_AI_REQUEST_STREAM,
  S.GEN_AI_RESPONSE_FINISH_REASONS,
  S.GEN_AI_USAGE_INPUT_TOKENS,
  S.GEN_AI_USAGE_OUTPUT_TOKENS,
  S.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  S.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  S.LLM_OTEL_USAGE_SOURCE,
  S.LLM_OTEL_COST,
  S.LLM_OTEL_CURRENCY,
  S.LLM_OTEL_PRICE_ID,
  S.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  S.LLM_OTEL_STATUS,
  S.ERROR_TYPE,
  S.LLM_OTEL_ERROR_MESSAGE,
  S.HTTP_RESPONSE_STATUS_CODE,
  S.HTTP_REQUEST_RESEND_COUNT,
  // Message content lives in llm_messages; repeating it in `attributes` would double the DB size.
  S.GEN_AI_SYSTEM_INSTRUCTIONS,
  S.GEN_AI_INPUT_MESSAGES,
  S.GEN_AI_OUTPUT_MESSAGES,
]);

function toCall(span: SpanData, operation: string, rest: Unmapped, parsed: ParsedAttributes | undefined): CallItem {
  const a = span.attributes;
  const input = int(a[S.GEN_AI_USAGE_INPUT_TOKENS]);
  const output = int(a[S.GEN_AI_USAGE_OUTPUT_TOKENS]);
  const ttftSec = num(a[S.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]);
  const times = spanTimes(span);
  const call: CallRow = {
    span_id: span.spanId,
    trace_id: span.traceId,
    parent_span_id: span.parentSpanId,
    parent_call_id: str(a[S.LLM_OTEL_PARENT_CALL_ID]),
    service_name: span.serviceName,
    session_id: str(a[S.SESSION_ID]),
    user_id: str(a[S.USER_ID]),
    agent_name: str(a[S.GEN_AI_AGENT_NAME]),
    conversation_id: str(a[S.GEN_AI_CONVERSATION_ID]),
    tags: jsonArray(a[S.LLM_OTEL_TAGS]),
    metadata: rest.metadata,
    operation,
    api: apiOf(a, operation),
    // gen_ai.system: older instrumentations (e.g. the contrib openai one) still emit it.
    provider: str(a[S.GEN_AI_PROVIDER_NAME]) ?? str(a['gen_ai.system']),
    server_address: str(a[S.SERVER_ADDRESS]),
    server_port: int(a[S.SERVER_PORT]),
    request_model: str(a[S.GEN_AI_REQUEST_MODEL]),
    response_model: str(a[S.GEN_AI_RESPONSE_MODEL]),
    response_id: str(a[S.GEN_AI_RESPONSE_ID]),
    request_id: str(a[S.LLM_OTEL_REQUEST_ID]),
    temperature: num(a[S.GEN_AI_REQUEST_TEMPERATURE]),
    top_p: num(a[S.GEN_AI_REQUEST_TOP_P]),
    max_tokens: int(a[S.GEN_AI_REQUEST_MAX_TOKENS]),
    // 0/1 (docs/database.md). A request that did not ask to stream was not streamed.
    stream: a[S.GEN_AI_REQUEST_STREAM] === true ? 1 : 0,
    finish_reasons: jsonArray(a[S.GEN_AI_RESPONSE_FINISH_REASONS]),
    input_tokens: input,
    output_tokens: output,
    // input already includes cached tokens and output includes reasoning tokens (OpenAI semantics).
    total_tokens: input === null && output === null ? null : (input ?? 0) + (output ?? 0),
    cached_input_tokens: int(a[S.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]),
    reasoning_tokens: int(a[S.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]),
    usage_source: str(a[S.LLM_OTEL_USAGE_SOURCE]),
    cost: num(a[S.LLM_OTEL_COST]),
    currency: str(a[S.LLM_OTEL_CURRENCY]),
    price_id: int(a[S.LLM_OTEL_PRICE_ID]),
    started_at: times.started_at,
    ended_at: times.ended_at,
    duration_ms: times.duration_ms,
    ttft_ms: ttftSec === null ? null : round3(ttftSec * 1000),
    status: statusOf(span),
    error_type: str(a[S.ERROR_TYPE]),
    error_message: errorMessageOf(span),
    http_status: int(a[S.HTTP_RESPONSE_STATUS_CODE]),
    retry_count: int(a[S.HTTP_REQUEST_RESEND_COUNT]) ?? 0,
    attributes: rest.others,
  };
  return { kind: 'call', call, messages: messagesOf(a, parsed) };
}

function apiOf(a: Attributes, operation: string): string | null {
  const api = str(a[S.LLM_OTEL_API]);
  if (api) return api;
  const type = str(a[S.OPENAI_API_TYPE]);
  if (type === 'chat_completions') return 'chat.completions';
  if (type === 'responses') return 'responses';
  if (operation === 'text_completion') return 'completions';
  if (operation === 'embeddings') return 'embeddings';
  return null;
}

// ── messages ─────────────────────────────────────────────────────────────────────────────────────

const MARKER = /…\[truncated: (\d+) chars\]$/;

/** Original length of a (possibly truncated) content string, from the instrumentation's marker. */
export function contentLength(s: string): { chars: number; truncated: boolean } {
  // Cheap pre-check: the marker always ends with "chars]".
  if (s.endsWith(' chars]')) {
    const m = MARKER.exec(s);
    if (m) return { chars: Number(m[1]), truncated: true };
  }
  return { chars: s.length, truncated: false };
}

interface Part {
  type?: unknown;
  content?: unknown;
  id?: unknown;
  name?: unknown;
  arguments?: unknown;
  response?: unknown;
  modality?: unknown;
  uri?: unknown;
  file_id?: unknown;
  mime_type?: unknown;
}
interface Message {
  role?: unknown;
  parts?: unknown;
  name?: unknown;
}

function messagesOf(a: Attributes, parsed: ParsedAttributes | undefined): MessageRow[] {
  const rows: MessageRow[] = [];
  // System instructions are a list of parts given apart from the chat history; each becomes a
  // `system` input row ahead of the history so positions read in the order the model saw them.
  const sys = parseJsonArray(a[S.GEN_AI_SYSTEM_INSTRUCTIONS], parsed?.get(S.GEN_AI_SYSTEM_INSTRUCTIONS));
  for (const part of sys) {
    if (!isObject(part)) continue;
    rows.push(messageRow('input', rows.length, { role: 'system', parts: [part] }));
  }
  for (const m of parseJsonArray(a[S.GEN_AI_INPUT_MESSAGES], parsed?.get(S.GEN_AI_INPUT_MESSAGES))) {
    if (isObject(m)) rows.push(messageRow('input', rows.length, m as Message));
  }
  const out = parseJsonArray(a[S.GEN_AI_OUTPUT_MESSAGES], parsed?.get(S.GEN_AI_OUTPUT_MESSAGES));
  let pos = 0;
  for (const m of out) {
    if (isObject(m)) rows.push(messageRow('output', pos++, m as Message));
  }
  return rows;
}

function messageRow(direction: 'input' | 'output', position: number, m: Message): MessageRow {
  const texts: string[] = [];
  let chars = 0;
  let truncated = false;
  const toolCalls: { id: unknown; name: unknown; arguments: unknown }[] = [];
  const reasoning: string[] = [];
  let toolCallId: string | null = null;
  const addText = (s: string): void => {
    const len = contentLength(s);
    if (texts.length > 0) chars += 1; // the '\n' joining parts
    texts.push(s);
    chars += len.chars;
    truncated ||= len.truncated;
  };
  const parts = Array.isArray(m.parts) ? (m.parts as unknown[]) : [];
  for (const p of parts) {
    if (!isObject(p)) continue;
    const part = p as Part;
    switch (part.type) {
      case 'text':
        if (typeof part.content === 'string') addText(part.content);
        break;
      case 'tool_call':
        toolCalls.push({ id: part.id ?? null, name: part.name ?? null, arguments: part.arguments ?? null });
        break;
      case 'tool_call_response':
        toolCallId ??= typeof part.id === 'string' ? part.id : null;
        if (part.response !== undefined && part.response !== null) {
          addText(typeof part.response === 'string' ? part.response : JSON.stringify(part.response));
        }
        break;
      case 'blob':
        // Base64 payloads were replaced upstream by a placeholder text such as "[base64 image/png 12 bytes]".
        if (typeof part.content === 'string') addText(part.content);
        break;
      case 'uri':
        if (typeof part.uri === 'string') addText(`[${str(part.modality) ?? 'uri'}: ${part.uri}]`);
        break;
      case 'file':
        if (part.file_id !== undefined) addText(`[${str(part.modality) ?? 'file'} file: ${String(part.file_id)}]`);
        break;
      case 'reasoning':
        // Its own column: the answer stays in `content`.
        if (typeof part.content === 'string' && part.content !== '') reasoning.push(part.content);
        break;
      case 'server_tool_call':
      case 'server_tool_call_response':
        // Known kinds that are not message text: kept out of content on purpose (they stay in the
        // span's gen_ai.*.messages).
        break;
      default:
        // A kind of part we do not know still shows that it was there: `[something_new]`.
        if (typeof part.type === 'string' && part.type !== '') addText(`[${part.type}]`);
        break;
    }
  }
  return {
    direction,
    position,
    role: typeof m.role === 'string' ? m.role : null,
    content: texts.length > 0 ? texts.join('\n') : null,
    content_chars: texts.length > 0 ? chars : null,
    truncated: truncated ? 1 : 0,
    tool_calls: toolCalls.length > 0 ? JSON.stringify(toolCalls) : null,
    tool_call_id: toolCallId,
    name: typeof m.name === 'string' ? m.name : null,
    token_estimate: null,
    reasoning: reasoning.length > 0 ? reasoning.join('\n') : null,
  };
}

function parseJsonArray(v: AttributeValue | undefined, known: { text: string; value: unknown } | undefined): unknown[] {
  if (typeof v !== 'string' || v === '') return [];
  if (known !== undefined && known.text === v) return Array.isArray(known.value) ? known.value : [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return []; // malformed content attribute: store the call without message rows
  }
}

// ── runs ─────────────────────────────────────────────────────────────────────────────────────────

const RUN_MAPPED = new Set<string>([
  S.GEN_AI_OPERATION_NAME,
  S.LLM_OTEL_RUN_KIND,
  S.LLM_OTEL_PARENT_CALL_ID,
  S.SESSION_ID,
  S.USER_ID,
  S.GEN_AI_TOOL_CALL_ID,
  S.LLM_OTEL_STATUS,
  S.LLM_OTEL_ERROR_MESSAGE,
]);

function toRun(span: SpanData, kind: RunRow['kind']): RunRow {
  const a = span.attributes;
  const nameAttr = kind === 'agent' ? S.GEN_AI_AGENT_NAME : kind === 'tool' ? S.GEN_AI_TOOL_NAME : S.GEN_AI_WORKFLOW_NAME;
  const sp = span.name.indexOf(' ');
  const times = spanTimes(span);
  return {
    span_id: span.spanId,
    trace_id: span.traceId,
    parent_span_id: span.parentSpanId,
    parent_call_id: str(a[S.LLM_OTEL_PARENT_CALL_ID]),
    kind,
    name: str(a[nameAttr]) ?? (sp > 0 ? span.name.slice(sp + 1) : span.name || null),
    session_id: str(a[S.SESSION_ID]),
    user_id: str(a[S.USER_ID]),
    agent_name: str(a[S.GEN_AI_AGENT_NAME]),
    tool_call_id: str(a[S.GEN_AI_TOOL_CALL_ID]),
    started_at: times.started_at,
    ended_at: times.ended_at,
    duration_ms: times.duration_ms,
    status: statusOf(span),
    error_message: errorMessageOf(span),
    // gen_ai.agent.name / tool.name / workflow.name stay in `attributes` too: cheap, and the agent
    // name of a tool run is context, not its own name.
    attributes: unmapped(a, RUN_MAPPED).others,
  };
}

function runKindAttr(v: AttributeValue | undefined): RunRow['kind'] | undefined {
  return v === 'agent' || v === 'tool' || v === 'workflow' ? v : undefined;
}

// ── shared helpers ───────────────────────────────────────────────────────────────────────────────

const SPAN_STATUS_ERROR = 2; // SpanStatusCode.ERROR (a const enum value, inlined to stay type-only)
const STATUSES = new Set(['ok', 'error', 'timeout', 'cancelled']);

function statusOf(span: SpanData): string {
  const s = span.attributes[S.LLM_OTEL_STATUS];
  if (typeof s === 'string' && STATUSES.has(s)) return s;
  return span.statusCode === SPAN_STATUS_ERROR ? 'error' : 'ok';
}

function errorMessageOf(span: SpanData): string | null {
  const fromStatus = span.statusCode === SPAN_STATUS_ERROR ? span.statusMessage : null;
  return fromStatus ? fromStatus : str(span.attributes[S.LLM_OTEL_ERROR_MESSAGE]);
}

function spanTimes(span: SpanData): { started_at: string; ended_at: string | null; duration_ms: number | null } {
  return {
    started_at: iso(span.startMs),
    ended_at: span.endMs === null ? null : iso(span.endMs),
    duration_ms: span.durationMs === null ? null : round3(span.durationMs),
  };
}

function isHr(t: HrTime | undefined): t is HrTime {
  return Array.isArray(t) && t.length === 2;
}

function hrMs(t: HrTime): number {
  return t[0] * 1e3 + t[1] / 1e6;
}

const HOUR_MS = 3_600_000;
/** Date's range (±8.64e15 ms): beyond it toISOString throws, as iso() must too. */
const MAX_TIME_MS = 8.64e15;
let isoHourStart = Number.NaN;
let isoHourPrefix = '';

/**
 * ISO-8601 UTC with milliseconds (Date#toISOString); timestamps are floored so ordering by text
 * equals ordering by time. Formatting a Date is costly and a call's times share their hour, so the
 * hour's prefix ("2026-12-07T06:") is kept and only minutes, seconds and milliseconds are added.
 */
function iso(ms: number): string {
  const t = Math.floor(ms);
  if (!(Math.abs(t) <= MAX_TIME_MS)) return new Date(t).toISOString(); // throws RangeError, as it always did
  const inHour = ((t % HOUR_MS) + HOUR_MS) % HOUR_MS;
  const start = t - inHour;
  if (start !== isoHourStart) {
    const s = new Date(start).toISOString();
    isoHourPrefix = s.slice(0, s.length - 10); // without "mm:ss.sssZ"
    isoHourStart = start;
  }
  const min = Math.floor(inHour / 60_000);
  const sec = Math.floor(inHour / 1000) % 60;
  const milli = inHour % 1000;
  return `${isoHourPrefix}${min < 10 ? '0' : ''}${min}:${sec < 10 ? '0' : ''}${sec}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

interface Unmapped {
  metadata: string | null;
  others: string | null;
  /** spanDataSize of the span. */
  size: number;
}

/**
 * The attributes without a column of their own, as JSON: `llm_otel.metadata.*` (prefix removed)
 * and the others; and the span's size. One pass: span attributes are large dictionary-mode
 * objects, whose keys every for-in collects and sorts anew.
 */
function unmapped(a: Attributes, mapped: Set<string>): Unmapped {
  let metadata: Record<string, AttributeValue> | null = null;
  let others: Record<string, AttributeValue> | null = null;
  let size = 512;
  for (const key in a) {
    const v = a[key];
    size += attributeSize(key, v);
    if (v === undefined || mapped.has(key)) continue;
    if (key.startsWith(S.LLM_OTEL_METADATA_PREFIX)) (metadata ??= {})[key.slice(S.LLM_OTEL_METADATA_PREFIX.length)] = v;
    else (others ??= {})[key] = v;
  }
  return { metadata: metadata ? JSON.stringify(metadata) : null, others: others ? JSON.stringify(others) : null, size };
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function int(v: unknown): number | null {
  const n = num(v);
  return n === null ? null : Math.trunc(n);
}

function jsonArray(v: AttributeValue | undefined): string | null {
  if (Array.isArray(v)) return JSON.stringify(v);
  if (typeof v === 'string' && v !== '') return JSON.stringify([v]);
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
