// `node --require llm-otel/register app.(c|m)js` (or `--import` resolving to the CJS build): CJS
// `require('openai')` is instrumented through require-in-the-middle, and ESM `import 'openai'`
// through the loader hook installed here (Node ≥ 20.6's module.register works from CJS; it takes
// effect for the app's entry, which loads after this preload).
import { pathToFileURL } from 'node:url';
import { errorMessage } from './core/warn.js';
import { inLoaderHooksThread, installOpenAIEsmHook } from './esm-hook.js';

// Node runs this preload again in the loader hooks thread it starts: nothing to do there, and the
// pipeline's modules are not even loaded.
if (!inLoaderHooksThread()) {
  const { enabledByEnv, esmHookModules, registerFromEnv } = require('./register.js') as typeof import('./register.js');
  const { warnOnce } = require('./core/warn.js') as typeof import('./core/warn.js');
  if (enabledByEnv()) {
    try {
      installOpenAIEsmHook(pathToFileURL(__filename).href, esmHookModules());
    } catch (e) {
      warnOnce(
        'register:esm-hook',
        `cannot install the ESM loader hook (${errorMessage(e)}): ESM apps are not instrumented under --require; use node --import llm-otel/register`,
      );
    }
  }
  registerFromEnv();
}
