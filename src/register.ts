// Shared body of `llm-otel/register` (both builds): start from the environment, never throw.

import { loadConfig } from './config/config.js';
import { errorMessage, warnOnce } from './core/warn.js';
import { BRIDGED_MODULES, inLoaderHooksThread } from './esm-hook.js';
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

/** The framework packages whose bridge the environment leaves on (the ESM loader hook includes them). */
export function bridgedModulesByEnv(): string[] {
  try {
    return loadConfig().openaiAgents ? [...BRIDGED_MODULES] : [];
  } catch {
    return [];
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
