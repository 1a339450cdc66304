// The ESM loader hook that lets the instrumentation see `import … from 'openai'`: import-in-the-
// middle's loader, limited to `openai` and the framework modules the bridges hook, by name or
// URL pattern (hooking every module breaks openai v4's ESM shims). Shared by
// both `register` entries, so `--require llm-otel/register` instruments ESM apps too, and `--import`
// with `--require` (one of them from NODE_OPTIONS) installs it once.
import * as nodeModule from 'node:module';
import * as workerThreads from 'node:worker_threads';

const HOOK_KEY = Symbol.for('llm-otel.esm-hook');

/**
 * Framework packages a bridge hooks as they load (src/bridges/): the OpenAI Agents SDK's core (its
 * tracing) and its OpenAI models (the WebSocket transport).
 */
export const BRIDGED_MODULES = ['@openai/agents-core', '@openai/agents-openai'];
const g = globalThis as unknown as Record<symbol, boolean | undefined>;

/**
 * Installs the hook once per process (whichever copy, ESM or CJS, comes first); `parentURL`
 * resolves `import-in-the-middle` from llm-otel's own location. A static include list instead of
 * iitm's message channel: the list is known now, so neither entry has to wait for acknowledgements
 * (the CJS entry cannot wait). Throws when `module.register` is missing or refuses.
 */
export function installOpenAIEsmHook(parentURL: string, also: readonly (string | RegExp)[] = BRIDGED_MODULES): void {
  if (g[HOOK_KEY]) return;
  const register = (nodeModule as unknown as { register?: (s: string, p: string, o: unknown) => void }).register;
  if (typeof register !== 'function')
    throw new Error(`node:module has no register() in Node ${process.versions.node} (20.6 or later has it)`);
  register('import-in-the-middle/hook.mjs', parentURL, { data: { include: ['openai', ...also] } });
  g[HOOK_KEY] = true;
}

/**
 * True inside Node's module-loader hooks thread. Node runs `--require` preloads there as well (the
 * thread module.register starts), where llm-otel must do nothing: no second hook, no second
 * pipeline. Node ≥ 22.14 says so (isInternalThread); before, it is the one worker with no parentPort.
 */
export function inLoaderHooksThread(): boolean {
  const wt = workerThreads as unknown as { isInternalThread?: boolean; isMainThread: boolean; parentPort: unknown };
  if (wt.isInternalThread === true) return true;
  return !wt.isMainThread && wt.parentPort === null;
}
