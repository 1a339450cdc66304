// OpenAI request/response objects → semconv v1.41 GenAI content JSON (one module per API family;
// this file is the single import point for them).

export { chatFinishReason, chatRequestContent, chatResponseOutput } from './chat.js';
export { completionsRequestContent, completionsResponseOutput, embeddingsRequestContent } from './legacy.js';
export type { ChatContent, InputMessage, OutputMessage, Part } from './parts.js';
export { messageText } from './parts.js';
export { responsesFinishReason, responsesRequestContent, responsesResponseOutput } from './responses.js';
export { toolDefinitions } from './tools.js';
