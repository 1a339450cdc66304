// One clear warning per problem, never a throw: logging failures must not disturb the app.
// Keyed through a process-global set so the ESM and CJS copies of the package share it.

const KEY = Symbol.for('llm-otel.warned');
const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
const warned: Set<string> = (g[KEY] ??= new Set<string>());

export type WarnSink = (message: string) => void;
let sink: WarnSink = (m) => {
  try { process.stderr.write(`[llm-otel] ${m}\n`); } catch { /* stderr closed: nothing to do */ }
};

/** Redirect warnings (tests). */
export function setWarnSink(fn: WarnSink): void { sink = fn; }

export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  sink(message);
}

/** Forget a key so the next occurrence warns again (after recovery). */
export function resetWarning(key: string): void { warned.delete(key); }

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  try { return String(e); } catch { return 'unknown error'; }
}
