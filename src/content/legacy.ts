// Legacy Completions and Embeddings: prompts/inputs are strings, string lists or token arrays.

import { eachWithin } from './budget.js';
import { chatFinishReason } from './chat.js';
import type { ContentOptions } from './options.js';
import { type ChatContent, type InputMessage, isObj, markOmittedMessages, type OutputMessage, textPart } from './parts.js';

const isTokens = (v: unknown): v is unknown[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** string | string[] | number[] | number[][] → one user message per prompt/input. */
function promptMessages(prompt: unknown, o: ContentOptions): InputMessage[] {
  const one = (p: unknown): InputMessage => ({
    role: 'user',
    // Token ids are not text: record how many there were.
    parts: [isTokens(p) ? { type: 'text', content: `[${p.length} tokens]` } : textPart(p, o)],
  });
  if (prompt == null) return [];
  if (!Array.isArray(prompt) || isTokens(prompt)) return [one(prompt)];
  const out: InputMessage[] = [];
  eachWithin(
    prompt,
    o.budget,
    (p) => {
      out.push(one(p));
    },
    (left) => {
      markOmittedMessages(out, left);
    },
  );
  return out;
}

/** Completions request body → one user message per prompt. */
export function completionsRequestContent(body: any, o: ContentOptions): ChatContent {
  try {
    return { inputMessages: isObj(body) ? promptMessages(body.prompt, o) : [] };
  } catch {
    return { inputMessages: [] };
  }
}

/** Completions `choices[].text` → one assistant output message per choice. */
export function completionsResponseOutput(choices: any[], o: ContentOptions): OutputMessage[] {
  const out: OutputMessage[] = [];
  if (!Array.isArray(choices)) return out;
  eachWithin(
    choices,
    o.budget,
    (c) => {
      try {
        const ch = isObj(c) ? c : {};
        out.push({
          role: 'assistant',
          parts: ch.text == null ? [] : [textPart(ch.text, o)],
          finish_reason: chatFinishReason(ch.finish_reason),
        });
      } catch {
        /* skip an unreadable choice */
      }
    },
    (left) => {
      markOmittedMessages(out, left, true);
    },
  );
  return out;
}

/** Embeddings request body → one user message per input. */
export function embeddingsRequestContent(body: any, o: ContentOptions): ChatContent {
  try {
    return { inputMessages: isObj(body) ? promptMessages(body.input, o) : [] };
  } catch {
    return { inputMessages: [] };
  }
}
