// The hook: when the app loads @langchain/core (require or import), CallbackManager._configureSync —
// which every runnable, tool and LangGraph graph calls to build its callbacks — is wrapped to add
// the bridge's handler (runs.ts) to the managers it returns, inheritable, so it sees every run
// beneath. The way OpenInference and OpenLLMetry instrument LangChain, with no code change in the
// app. Duck-typed: nothing of LangChain is imported or typed here.

import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { VERSION } from '../../core/version.js';
import { CALLBACK_MANAGER_FILES, LANGCHAIN_CORE, LANGCHAIN_CORE_VERSIONS } from './modules.js';
import { type LangChainRuns, langChainRuns } from './runs.js';

const ORIGINAL = Symbol.for('llm-otel.langchain.original');
type AnyFn = ((...args: unknown[]) => unknown) & { [ORIGINAL]?: AnyFn };

/** Wraps the static `_configureSync` of a CallbackManager class; false if it has none. */
export function patchCallbackManager(manager: unknown, runs: LangChainRuns = langChainRuns()): boolean {
  const cls = manager as { _configureSync?: AnyFn } | undefined;
  const original = cls?._configureSync;
  if (typeof original !== 'function') return false;
  if (original[ORIGINAL]) return true;
  const patched: AnyFn = function configureWithLlmOtel(this: unknown, ...args: unknown[]) {
    const result = original.apply(this, args);
    try {
      return runs.attach(result, this ?? cls);
    } catch {
      return result; // LangChain's callbacks as they were
    }
  };
  patched[ORIGINAL] = original;
  Object.defineProperty(cls, '_configureSync', { value: patched, writable: true, configurable: true });
  return true;
}

export function unpatchCallbackManager(manager: unknown): void {
  const cls = manager as { _configureSync?: AnyFn } | undefined;
  const fn = cls?._configureSync;
  if (typeof fn === 'function' && fn[ORIGINAL])
    Object.defineProperty(cls, '_configureSync', { value: fn[ORIGINAL], writable: true, configurable: true });
}

/** require-in-the-middle / import-in-the-middle for @langchain/core's callbacks manager (both builds). */
export class LangChainBridge extends InstrumentationBase {
  constructor() {
    super('llm-otel-langchain', VERSION, { enabled: false });
  }

  protected init() {
    const patch = (exports: any) => {
      patchCallbackManager(exports?.CallbackManager);
      return exports;
    };
    const unpatch = (exports: any) => {
      unpatchCallbackManager(exports?.CallbackManager);
    };
    return [
      new InstrumentationNodeModuleDefinition(
        LANGCHAIN_CORE,
        LANGCHAIN_CORE_VERSIONS,
        undefined,
        undefined,
        CALLBACK_MANAGER_FILES.map((f) => new InstrumentationNodeModuleFile(f, LANGCHAIN_CORE_VERSIONS, patch, unpatch)),
      ),
    ];
  }

  override enable(): void {
    super.enable();
    langChainRuns().enable();
  }

  override disable(): void {
    super.disable();
    langChainRuns().disable();
  }
}
