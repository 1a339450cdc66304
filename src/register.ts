// Shared body of `llm-otel/register` (both builds): start from the environment, never throw.

import { CALLBACK_MANAGER_ESM_URL } from './bridges/langchain/modules.js';
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

/** What the ESM loader hook must wrap besides `openai`: the modules of the bridges the environment leaves on. */
export function esmHookModules(): (string | RegExp)[] {
  try {
    const config = loadConfig();
    return [...(config.openaiAgents ? BRIDGED_MODULES : []), ...(config.langchain ? [CALLBACK_MANAGER_ESM_URL] : [])];
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
