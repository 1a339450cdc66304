// Tool definitions → gen_ai.tool.definitions (semconv FunctionToolDefinition / GenericToolDefinition).
import { cleanText, type ContentOptions } from './options.js';
import { isObj } from './parts.js';
import { sanitizeValue } from './sanitize.js';

function functionDef(fn: Record<string, any>, o: ContentOptions): Record<string, unknown> {
  const d: Record<string, unknown> = { type: 'function', name: typeof fn.name === 'string' ? fn.name : '' };
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
    const d: Record<string, unknown> = { type: 'custom', name: typeof c.name === 'string' ? c.name : '' };
    if (typeof c.description === 'string') d.description = cleanText(c.description, o);
    return d;
  }
  // Built-in tools (web_search, file_search, code_interpreter, mcp, …): the type, plus the name
  // semconv requires (MCP: the server label). Their config (URLs, headers, ids) is left out.
  const type = typeof t.type === 'string' ? t.type : 'unknown';
  const name = typeof t.name === 'string' ? t.name : typeof t.server_label === 'string' ? t.server_label : type;
  return { type, name };
}

/** Chat `tools` / legacy `functions`, or Responses `tools` → definitions; undefined when none. */
export function toolDefinitions(tools: any[] | undefined, o: ContentOptions): unknown[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const out: unknown[] = [];
  for (const t of tools) {
    try {
      const d = toolDef(t, o);
      if (d) out.push(d);
    } catch { /* skip an unreadable tool */ }
  }
  return out.length ? out : undefined;
}
