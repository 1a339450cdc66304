// `node --import llm-otel/register app.(m)js`: installs the ESM loader hook (import-in-the-middle,
// limited to `openai`; src/esm-hook.ts), then starts llm-otel. With `--require llm-otel/register`
// as well, whichever entry runs first installs the hook and starts the one pipeline; the other
// finds both done.

import { errorMessage, warnOnce } from './core/warn.js';
import { installOpenAIEsmHook } from './esm-hook.js';
import { enabledByEnv, esmHookModules, registerFromEnv } from './register.js';

if (enabledByEnv()) {
  try {
    installOpenAIEsmHook(import.meta.url, esmHookModules());
  } catch (e) {
    // CJS apps are still covered; ESM apps can call instrumentOpenAI(OpenAI).
    warnOnce(
      'register:esm-hook',
      `cannot install the ESM loader hook (${errorMessage(e)}): ESM imports of openai are not instrumented; call instrumentOpenAI(OpenAI)`,
    );
  }
}
registerFromEnv();
