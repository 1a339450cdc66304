// Content capture: redaction, truncation, and OpenAI → semconv message conversion.
// Pure functions, no dependencies, never throw.
export type { MaskerName, RedactOptions, Redactor } from './redact.js';
export { createRedactor } from './redact.js';
export { truncateText, parseTruncation } from './truncate.js';
export type { ContentOptions } from './options.js';
export { cleanText } from './options.js';
export * from './messages.js';
