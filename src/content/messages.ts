// OpenAI request/response objects → semconv v1.41 GenAI content JSON (one module per API family;
// this file is the single import point for them).
export type { Part, InputMessage, OutputMessage, ChatContent } from './parts.js';
export { messageText } from './parts.js';
export { chatRequestContent, chatResponseOutput, chatFinishReason } from './chat.js';
export { responsesRequestContent, responsesResponseOutput, responsesFinishReason } from './responses.js';
export { completionsRequestContent, completionsResponseOutput, embeddingsRequestContent } from './legacy.js';
export { toolDefinitions } from './tools.js';
