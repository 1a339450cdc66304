// Tool definitions → gen_ai.tool.definitions (semconv FunctionToolDefinition / GenericToolDefinition).

import { eachWithin, omissionMarker } from './budget.js';
import { type ContentOptions, cleanField, cleanText } from './options.js';
import { isObj } from './parts.js';
import { sanitizeValue } from './sanitize.js';

function functionDef(fn: Record<string, any>, o: ContentOptions): Record<string, unknown> {
  const d: Record<string, unknown> = { type: 'function', name: typeof fn.name === 'string' ? cleanField(fn.name, o) : '' };
  if (typeof fn.description === 'string') d.description = cleanText(fn.description, o);
  if (fn.parameters != null) d.parameters = sanitizeValue(fn.parameters, o);
  return d;
}

function toolDef(t: unknown, o: ContentOptions): Record<string, unknown> | undefined {
  if (!isObj(t)) return undefined;
  // Chat Completions nests the function; Responses and the legacy `functions` list are flat.
  if (t.type === 'function' && isObj(t.function)) return functionDef(t.function, o);
  if (t.type === 'function' || (t.type === undefined && typeof t.name === 'string')) return functionDef(t, o);
  if (t.type === 'custom') {
    const c = isObj(t.custom) ? t.custom : t;
    const d: Record<string, unknown> = { type: 'custom', name: typeof c.name === 'string' ? cleanField(c.name, o) : '' };
    if (typeof c.description === 'string') d.description = cleanText(c.description, o);
    return d;
  }
  // Built-in tools (web_search, file_search, code_interpreter, mcp, …): the type, plus the name
  // semconv requires (MCP: the server label). Their config (URLs, headers, ids) is left out.
  const type = typeof t.type === 'string' ? cleanField(t.type, o) : 'unknown';
  const name =
    typeof t.name === 'string' ? cleanField(t.name, o) : typeof t.server_label === 'string' ? cleanField(t.server_label, o) : type;
  return { type, name };
}

/** Chat `tools` / legacy `functions`, or Responses `tools` → definitions; undefined when none. */
export function toolDefinitions(tools: any[] | undefined, o: ContentOptions): unknown[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const out: unknown[] = [];
  eachWithin(
    tools,
    o.budget,
    (t) => {
      try {
        const d = toolDef(t, o);
        if (d) out.push(d);
      } catch {
        /* skip an unreadable tool */
      }
    },
    (left) => {
      out.push({ type: 'truncated', name: omissionMarker(left, 'tools') });
    },
  );
  return out.length ? out : undefined;
}
