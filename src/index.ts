// Public API (DESIGN §6). Same names from `import` and `require`.
export { start, type StartOptions, type LlmOtelHandle } from './sdk/start.js';
export { withLlmContext, getLlmContext, type LlmContext, type WithLlmContextOptions } from './context.js';
export { withAgent, withTool, withWorkflow, type RunOptions } from './api/runs.js';
export { OpenAIInstrumentation, instrumentOpenAI, type OpenAIInstrumentationConfig } from './instrumentation/index.js';
export { providerFromBaseURL } from './instrumentation/provider.js';
export { SqliteCallLogExporter } from '../exporter/index.js';
export { loadConfig, type LlmOtelConfig } from './config.js';
export { VERSION } from './version.js';
