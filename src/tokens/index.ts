// Offline token estimation (gpt-tokenizer, loaded lazily on first use).
export {
  estimateTextTokens,
  estimateChatTokens,
  estimateMessageTokens,
  estimateOutputTokens,
  type EstimateMessage,
  type ToolDefinitionLike,
} from './estimate.js';
export { encodingForModel, isEncoderLoaded, type EncodingName } from './encoder.js';
