// Shared body of `llm-otel/register` (both builds): start from the environment, never throw.

import { loadConfig } from './config/config.js';
import { errorMessage, warnOnce } from './core/warn.js';
import { inLoaderHooksThread } from './esm-hook.js';
import { type LlmOtelHandle, start } from './start/start.js';

export function registerFromEnv(): LlmOtelHandle | undefined {
  if (inLoaderHooksThread()) return undefined; // see esm-hook.ts
  try {
    return start();
  } catch (e) {
    warnOnce('register', `llm-otel/register failed (${errorMessage(e)}); the app runs without it`);
    return undefined;
  }
}

export function enabledByEnv(): boolean {
  if (inLoaderHooksThread()) return false;
  try {
    return loadConfig().enabled;
  } catch {
    return false;
  }
}
