// A trace's rows → the tree of runs (agent / tool / workflow) and LLM calls, linked by
// parent_call_id (the nearest enclosing llm-otel span), with totals on every node. Store-neutral:
// it works on the rows any store returns.

import type { Row, TraceRows } from './types.js';

export interface TraceNode {
  kind: 'call' | 'agent' | 'tool' | 'workflow';
  id: number;
  span_id: string;
  name: string;
  model: string | null;
  started_at: string;
  duration_ms: number | null;
  status: string;
  error: string | null;
  /** Own tokens for a call; totals of the subtree (the node included) for every node. */
  input_tokens: number;
  output_tokens: number;
  cost: number | null;
  currency: string | null;
  calls: number;
  children: TraceNode[];
}

/** Extra per-node facts the dashboard's waterfall shows (the CLI prints the plain tree). */
export interface TraceDetail {
  ttft_ms: number | null;
  stream: boolean;
  /** A tool run: the id of the tool call that asked for it. */
  tool_call_id: string | null;
  /** A tool run: the span id of the LLM call whose answer asked for it. */
  caused_by: string | null;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);

export function buildTrace(rows: TraceRows): TraceNode[] {
  const nodes = new Map<string, TraceNode>();
  const parentOf = new Map<string, string | null>();
  for (const r of rows.runs) {
    const kind = String(r.kind) as TraceNode['kind'];
    nodes.set(String(r.span_id), {
      kind,
      id: Number(r.id),
      span_id: String(r.span_id),
      name: str(r.name) ?? kind,
      model: null,
      started_at: String(r.started_at),
      duration_ms: num(r.duration_ms),
      status: String(r.status),
      error: str(r.error_message),
      input_tokens: 0,
      output_tokens: 0,
      cost: null,
      currency: null,
      calls: 0,
      children: [],
    });
    parentOf.set(String(r.span_id), str(r.parent_call_id) ?? str(r.parent_span_id));
  }
  for (const c of rows.calls) {
    const model = str(c.response_model) ?? str(c.request_model);
    const cost = num(c.cost);
    nodes.set(String(c.span_id), {
      kind: 'call',
      id: Number(c.id),
      span_id: String(c.span_id),
      name: `${c.operation} ${c.request_model ?? ''}`.trim(),
      model,
      started_at: String(c.started_at),
      duration_ms: num(c.duration_ms),
      status: String(c.status),
      error: c.status === 'ok' ? null : [c.error_type, c.error_message].filter(Boolean).join(': ') || null,
      input_tokens: num(c.input_tokens) ?? 0,
      output_tokens: num(c.output_tokens) ?? 0,
      cost,
      currency: cost === null ? null : (str(c.currency) ?? 'USD'),
      calls: 1,
      children: [],
    });
    parentOf.set(String(c.span_id), str(c.parent_call_id) ?? str(c.parent_span_id));
  }
  const roots: TraceNode[] = [];
  for (const [id, node] of nodes) {
    const p = parentOf.get(id);
    const parent = p ? nodes.get(p) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const byStart = (a: TraceNode, b: TraceNode): number => a.started_at.localeCompare(b.started_at) || a.id - b.id;
  const seen = new Set<TraceNode>();
  const total = (n: TraceNode, depth: number): void => {
    n.children.sort(byStart);
    // A cycle in bad data: stop rather than overflow or count twice.
    if (depth > 1000 || seen.has(n)) return;
    seen.add(n);
    for (const ch of n.children) {
      total(ch, depth + 1);
      n.input_tokens += ch.input_tokens;
      n.output_tokens += ch.output_tokens;
      n.calls += ch.calls;
      if (ch.cost !== null) {
        if (n.cost === null) {
          n.cost = ch.cost;
          n.currency = ch.currency;
        } else {
          n.cost += ch.cost;
          if (n.currency !== ch.currency) n.currency = 'mixed';
        }
      }
    }
    if (n.cost !== null) n.cost = Math.round(n.cost * 1e10) / 1e10;
  };
  roots.sort(byStart);
  for (const r of roots) total(r, 0);
  return roots;
}

/**
 * The waterfall's extra facts per span id: TTFT of streamed calls, and for each tool run the LLM
 * call whose assistant message asked for it (its tool call id found in that call's tool_calls).
 */
export function traceDetails(rows: TraceRows): Map<string, TraceDetail> {
  const out = new Map<string, TraceDetail>();
  const spanOfCall = new Map<number, string>();
  for (const c of rows.calls) {
    spanOfCall.set(Number(c.id), String(c.span_id));
    out.set(String(c.span_id), { ttft_ms: num(c.ttft_ms), stream: !!c.stream, tool_call_id: null, caused_by: null });
  }
  const askedBy = new Map<string, string>();
  for (const t of rows.toolCalls) {
    const span = spanOfCall.get(Number(t.call_id));
    if (!span) continue;
    for (const id of toolCallIds(t.tool_calls)) if (!askedBy.has(id)) askedBy.set(id, span);
  }
  for (const r of rows.runs as Row[]) {
    const id = str(r.tool_call_id);
    out.set(String(r.span_id), {
      ttft_ms: null,
      stream: false,
      tool_call_id: id,
      caused_by: id ? (askedBy.get(id) ?? null) : null,
    });
  }
  return out;
}

/** The ids in a stored tool_calls JSON array (`[{id, name, arguments}]`); [] if it is not one. */
export function toolCallIds(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return [];
    return v.map((t) => (t && typeof t === 'object' ? (t as { id?: unknown }).id : undefined)).filter((id) => typeof id === 'string');
  } catch {
    return [];
  }
}
