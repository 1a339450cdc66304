// Public API (README, "Quick start"). Same names from `import` and `require`.
export { start, type StartOptions, type LlmOtelHandle } from './start/start.js';
export { withLlmContext, getLlmContext, type LlmContext, type WithLlmContextOptions } from './context/context.js';
export { withAgent, withTool, withWorkflow, type RunOptions } from './api/runs.js';
export { OpenAIInstrumentation, instrumentOpenAI, type OpenAIInstrumentationConfig } from './instrumentation/index.js';
export { providerFromBaseURL } from './adapters/provider.js';
export { SqliteCallLogExporter } from '../exporter/index.js';
export { loadConfig, type LlmOtelConfig } from './config/config.js';
export { VERSION } from './core/version.js';
