// Public API (README, "Quick start"). Same names from `import` and `require`.

export { SqliteCallLogExporter } from '../exporter/index.js';
export { providerFromBaseURL } from './adapters/provider.js';
export { type RunOptions, withAgent, withTool, withWorkflow } from './api/runs.js';
export { type LlmOtelConfig, loadConfig } from './config/config.js';
export { getLlmContext, type LlmContext, type WithLlmContextOptions, withLlmContext } from './context/context.js';
export { VERSION } from './core/version.js';
export { instrumentOpenAI, OpenAIInstrumentation, type OpenAIInstrumentationConfig } from './instrumentation/index.js';
export { stripContent } from './otlp/content.js';
export { type LlmOtelHandle, type StartOptions, start } from './start/start.js';
