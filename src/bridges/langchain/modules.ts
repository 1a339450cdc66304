// The one LangChain module the bridge hooks: `@langchain/core`'s callbacks manager, whose
// CallbackManager every runnable, tool and graph configures its callbacks through. Named here, with
// no dependencies, because the ESM loader hook (src/esm-hook.ts) must list it before anything loads:
// only this file is wrapped by import-in-the-middle, never LangChain as a whole.

export const LANGCHAIN_CORE = '@langchain/core';
export const LANGCHAIN_CORE_VERSIONS = ['>=0.3.0 <2'];
/** The manager's file in the CJS and ESM builds of @langchain/core. */
export const CALLBACK_MANAGER_FILES = ['@langchain/core/dist/callbacks/manager.cjs', '@langchain/core/dist/callbacks/manager.js'];
/** The ESM build's file, as import-in-the-middle's include list matches it (a URL). */
export const CALLBACK_MANAGER_ESM_URL = /\/@langchain\/core\/dist\/callbacks\/manager\.js$/;
