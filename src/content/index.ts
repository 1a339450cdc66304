// Content capture: redaction, truncation, and OpenAI → semconv message conversion.
// Pure functions, no dependencies, never throw.
export type { MaskerName, RedactOptions, Redactor } from './redact.js';
export { createRedactor } from './redact.js';
export { truncateText, parseTruncation, capField, MAX_FIELD_CHARS } from './truncate.js';
export type { ContentOptions } from './options.js';
export { cleanText } from './options.js';
export { callContentBudget, MIN_CALL_CONTENT_CHARS, type ContentBudget } from './budget.js';
export * from './messages.js';
