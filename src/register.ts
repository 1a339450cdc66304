// Shared body of `llm-otel/register` (both builds): start from the environment, never throw.
import { start, type LlmOtelHandle } from './sdk/start.js';
import { loadConfig } from './config.js';
import { warnOnce } from './util/warn.js';
import { inLoaderHooksThread } from './esm-hook.js';

export function registerFromEnv(): LlmOtelHandle | undefined {
  if (inLoaderHooksThread()) return undefined; // see esm-hook.ts
  try {
    return start();
  } catch (e) {
    warnOnce('register', `llm-otel/register failed (${(e as Error)?.message}); the app runs without it`);
    return undefined;
  }
}

export function enabledByEnv(): boolean {
  if (inLoaderHooksThread()) return false;
  try { return loadConfig().enabled; } catch { return false; }
}
