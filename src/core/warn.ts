// One clear warning per problem, never a throw: logging failures must not disturb the app.
// Keyed through a process-global set so the ESM and CJS copies of the package share it.

const KEY = Symbol.for('llm-otel.warned');
const g = globalThis as unknown as Record<symbol, Set<string> | undefined>;
const warned: Set<string> = (g[KEY] ??= new Set<string>());

export type WarnSink = (message: string, key: string) => void;
let sink: WarnSink = (m) => {
  try {
    process.stderr.write(`[llm-otel] ${m}\n`);
  } catch {
    /* stderr closed: nothing to do */
  }
};
let onReset: ((key: string) => void) | undefined;

/**
 * Redirect warnings (tests; the writer thread, which forwards them to the app's thread). `reset`
 * hears resetWarning() too, so a forwarded key can warn again there after a recovery.
 */
export function setWarnSink(fn: WarnSink, reset?: (key: string) => void): void {
  sink = fn;
  onReset = reset;
}

export function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  sink(message, key);
}

/** Whether this thread already printed (or forwarded) the warning of `key`. */
export function hasWarned(key: string): boolean {
  return warned.has(key);
}

/** Whether this thread printed (or forwarded) any warning whose key starts with `prefix`. */
export function hasWarnedWithPrefix(prefix: string): boolean {
  for (const k of warned) if (k.startsWith(prefix)) return true;
  return false;
}

/**
 * Where a component reports problems: `warn` prints once per key, `reset` re-arms a key after
 * recovery. Components take one (tests inject a recorder; the writer thread forwards to the app's
 * thread); the default is the process-wide channel below.
 */
export interface Warner {
  warn(key: string, message: string): void;
  reset(key: string): void;
}

/** Forget a key so the next occurrence warns again (after recovery). */
export function resetWarning(key: string): void {
  warned.delete(key);
  onReset?.(key);
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  try {
    return String(e);
  } catch {
    return 'unknown error';
  }
}

/** The process-wide channel as a Warner. */
export const defaultWarner: Warner = { warn: warnOnce, reset: resetWarning };
