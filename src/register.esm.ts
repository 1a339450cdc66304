// `node --import llm-otel/register app.(m)js`: installs the ESM loader hook (import-in-the-middle,
// limited to `openai` — hooking every module breaks openai v4's ESM shims), then starts llm-otel.
// Top-level await: the loader must acknowledge the hooked names before the app's imports run.
import * as nodeModule from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { enabledByEnv, registerFromEnv } from './register.js';

const HOOK_KEY = Symbol.for('llm-otel.esm-hook');
const g = globalThis as unknown as Record<symbol, boolean | undefined>;

let wait: (() => Promise<void>) | undefined;
if (enabledByEnv() && !g[HOOK_KEY] && typeof (nodeModule as any).register === 'function') {
  try {
    const channel = createAddHookMessageChannel();
    (nodeModule as any).register('import-in-the-middle/hook.mjs', import.meta.url, channel.registerOptions);
    g[HOOK_KEY] = true;
    wait = channel.waitForAllMessagesAcknowledged;
  } catch {
    // No ESM hook: CJS apps are still covered; ESM apps can call instrumentOpenAI(OpenAI).
  }
}
registerFromEnv();
if (wait) await wait();
