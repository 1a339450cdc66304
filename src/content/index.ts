// Content capture: redaction, truncation, and OpenAI → semconv message conversion.
// Pure functions, no dependencies, never throw.

export { type ContentBudget, callContentBudget, MIN_CALL_CONTENT_CHARS } from './budget.js';
export * from './messages.js';
export type { ContentOptions } from './options.js';
export { cleanText } from './options.js';
export type { MaskerName, RedactOptions, Redactor } from './redact.js';
export { createRedactor } from './redact.js';
export { capField, MAX_FIELD_CHARS, parseTruncation, truncateText } from './truncate.js';
