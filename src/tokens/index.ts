// Offline token estimation (gpt-tokenizer, loaded lazily on first use).

export { type EncodingName, encodingForModel, isEncoderLoaded } from './encoder.js';
export {
  type EstimateMessage,
  estimateChatTokens,
  estimateMessageTokens,
  estimateOutputTokens,
  estimateTextTokens,
  type ToolDefinitionLike,
} from './estimate.js';
