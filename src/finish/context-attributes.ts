// The llm context (session, user, conversation, agent, tags, metadata) as span attributes, for LLM
// calls (finish.ts) and agent/tool/workflow runs (api/runs.ts) alike. Context values are the app's
// data like prompts are, so the same redaction applies (an email used as user id, a card number in
// a tag), except for the fields the user keeps (LLM_OTEL_KEEP_CONTEXT). The agent name is the
// app's own label for its code and is never redacted.

import type { Attributes } from '@opentelemetry/api';
import type { ContentOptions } from '../content/index.js';
import type { LlmContext } from '../context/context.js';
import * as S from '../core/semconv.js';

/**
 * Adds the context attributes of `llm` to `attrs`. `conversationId` overrides llm's (a call's
 * request may name its conversation). Without `o` nothing is redacted (no runtime configured).
 */
export function addContextAttributes(
  attrs: Attributes,
  llm: LlmContext,
  o: Pick<ContentOptions, 'redact' | 'keepContext'> | undefined,
  conversationId = llm.conversationId,
): void {
  const redact = o?.redact;
  const keep = o?.keepContext;
  const clean = (field: string, v: string): string => (redact && !keep?.has(field) ? redact(v) : v);
  if (llm.sessionId) attrs[S.SESSION_ID] = clean('session_id', llm.sessionId);
  if (llm.userId) attrs[S.USER_ID] = clean('user_id', llm.userId);
  if (llm.agentName) attrs[S.GEN_AI_AGENT_NAME] = llm.agentName;
  if (conversationId) attrs[S.GEN_AI_CONVERSATION_ID] = clean('conversation_id', conversationId);
  const tags = llm.tags;
  if (tags?.length) attrs[S.LLM_OTEL_TAGS] = redact && !keep?.has('tags') ? tags.map((t) => redact(t)) : tags;
  const metadata = llm.metadata;
  if (metadata) {
    const all = redact !== undefined && !keep?.has('metadata');
    for (const k in metadata) {
      const v: unknown = metadata[k];
      // Objects were made JSON text when the scope was entered (context/values.ts).
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
      const mask = all && !keep?.has(`metadata.${k}`);
      attrs[S.LLM_OTEL_METADATA_PREFIX + (mask ? redact!(k) : k)] = mask && typeof v === 'string' ? redact!(v) : v;
    }
  }
}
