// Decoding stored rows for output: the JSON text columns become values (the --json / JSONL form
// and the dashboard's API).

const JSON_COLUMNS = new Set(['tags', 'metadata', 'finish_reasons', 'attributes', 'tool_calls']);

/** A DB row with its JSON text columns parsed; text that is not JSON is kept as it is. */
export function parseJsonColumns<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const k of Object.keys(out)) {
    const v = out[k];
    if (JSON_COLUMNS.has(k) && typeof v === 'string') {
      try {
        out[k] = JSON.parse(v);
      } catch {
        /* keep the text */
      }
    }
  }
  return out as T;
}
