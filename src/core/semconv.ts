// Attribute names we emit. Copied as constants (not imported from
// @opentelemetry/semantic-conventions/incubating, whose GenAI names are marked "moved" and change
// between releases) so the wire contract in docs/spans.md is pinned here, in one place.

// GenAI semantic conventions v1.41
export const GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
export const GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p';
export const GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
export const GEN_AI_REQUEST_FREQUENCY_PENALTY = 'gen_ai.request.frequency_penalty';
export const GEN_AI_REQUEST_PRESENCE_PENALTY = 'gen_ai.request.presence_penalty';
export const GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences';
export const GEN_AI_REQUEST_SEED = 'gen_ai.request.seed';
export const GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count';
export const GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const GEN_AI_REQUEST_ENCODING_FORMATS = 'gen_ai.request.encoding_formats';
export const GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type';
export const GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const GEN_AI_RESPONSE_ID = 'gen_ai.response.id';
export const GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';
export const GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions';
export const GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const GEN_AI_TOOL_DEFINITIONS = 'gen_ai.tool.definitions';
export const GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const GEN_AI_WORKFLOW_NAME = 'gen_ai.workflow.name';
export const OPENAI_API_TYPE = 'openai.api.type';
export const OPENAI_REQUEST_SERVICE_TIER = 'openai.request.service_tier';
export const OPENAI_RESPONSE_SERVICE_TIER = 'openai.response.service_tier';
export const OPENAI_RESPONSE_SYSTEM_FINGERPRINT = 'openai.response.system_fingerprint';
export const SERVER_ADDRESS = 'server.address';
export const SERVER_PORT = 'server.port';
export const ERROR_TYPE = 'error.type';
export const HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
export const SESSION_ID = 'session.id';
export const USER_ID = 'user.id';

// llm-otel extensions
export const LLM_OTEL_PARENT_CALL_ID = 'llm_otel.parent_call_id';
export const LLM_OTEL_STATUS = 'llm_otel.status';
export const LLM_OTEL_REQUEST_ID = 'llm_otel.request_id';
export const LLM_OTEL_USAGE_SOURCE = 'llm_otel.usage_source';
export const LLM_OTEL_COST = 'llm_otel.cost';
export const LLM_OTEL_CURRENCY = 'llm_otel.currency';
export const LLM_OTEL_PRICE_ID = 'llm_otel.price_id';
export const LLM_OTEL_TAGS = 'llm_otel.tags';
export const LLM_OTEL_METADATA_PREFIX = 'llm_otel.metadata.';
export const LLM_OTEL_API = 'llm_otel.api';
export const LLM_OTEL_ERROR_MESSAGE = 'llm_otel.error.message';
export const LLM_OTEL_RUN_KIND = 'llm_otel.run.kind';

/** Content attributes: stripped from OTLP unless capture = all. */
export const CONTENT_ATTRIBUTES: readonly string[] = [
  GEN_AI_SYSTEM_INSTRUCTIONS,
  GEN_AI_INPUT_MESSAGES,
  GEN_AI_OUTPUT_MESSAGES,
  GEN_AI_TOOL_DEFINITIONS,
];

export const INSTRUMENTATION_SCOPE = 'llm-otel';

export type LlmStatus = 'ok' | 'error' | 'timeout' | 'cancelled';
