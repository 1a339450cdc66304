// semconv v1.41 GenAI message shapes (gen-ai-input-messages.json / gen-ai-output-messages.json)
// and the part builders shared by the per-API converters. Every builder returns a fresh object
// and never keeps a reference into the caller's request/response (those belong to the user).

import { omissionMarker } from './budget.js';
import { audioMime, base64Placeholder, cleanMime, dataUrlInfo, isDataUrl, mimeFromName, modalityOf } from './media.js';
import { type ContentOptions, cleanField, cleanText, toText } from './options.js';
import { sanitizeValue, setKey, toolArguments } from './sanitize.js';
import { capField } from './truncate.js';

export type Part = { type: string; [k: string]: unknown };
export interface InputMessage {
  role: string;
  parts: Part[];
  name?: string;
}
export interface OutputMessage {
  role: string;
  parts: Part[];
  finish_reason: string;
}
export interface ChatContent {
  systemInstructions?: Part[];
  inputMessages: InputMessage[];
  toolDefinitions?: unknown[];
}

export const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function textPart(s: unknown, o: ContentOptions): Part {
  return { type: 'text', content: cleanText(toText(s), o) };
}

export function reasoningPart(s: unknown, o: ContentOptions): Part {
  return { type: 'reasoning', content: cleanText(toText(s), o) };
}

/** Client-side tool call. `id` omitted when the API gives none (legacy function_call). */
export function toolCallPart(id: unknown, name: unknown, args: unknown, o: ContentOptions, parseArgs = true): Part {
  const p: Part = { type: 'tool_call' };
  if (typeof id === 'string') p.id = cleanField(id, o);
  p.name = typeof name === 'string' ? cleanField(name, o) : '';
  const a = parseArgs ? toolArguments(args, o) : args === undefined ? undefined : cleanText(toText(args), o);
  if (a !== undefined) p.arguments = a;
  return p;
}

/** Tool result sent back to the model: strings stay strings (cleaned), structures are sanitized. */
export function toolResponsePart(id: unknown, response: unknown, o: ContentOptions): Part {
  const p: Part = { type: 'tool_call_response' };
  if (typeof id === 'string') p.id = cleanField(id, o);
  p.response = typeof response === 'string' ? cleanText(response, o) : response == null ? '' : sanitizeValue(response, o);
  return p;
}

/**
 * An image/audio/file reference: a data: URL becomes a blob part with a placeholder instead of
 * the base64; anything else is a uri part (query strings are redacted like any text).
 */
export function mediaPart(url: unknown, modality: string | undefined, o: ContentOptions): Part {
  if (isDataUrl(url)) {
    const { mime, placeholder } = dataUrlInfo(url);
    const p: Part = { type: 'blob', modality: modality ?? modalityOf(mime) };
    if (mime) p.mime_type = mime;
    p.content = placeholder;
    return p;
  }
  const u = toText(url);
  const mime = mimeFromName(u);
  const p: Part = { type: 'uri', modality: modality ?? modalityOf(mime) };
  if (mime) p.mime_type = mime;
  p.uri = cleanText(u, o);
  return p;
}

/** Inline base64 payload (input_audio.data, file_data) → blob part with placeholder. */
export function blobPart(data: unknown, mime: string | undefined, modality: string | undefined): Part {
  if (isDataUrl(data)) {
    const info = dataUrlInfo(data);
    const m = info.mime ?? mime;
    const p: Part = { type: 'blob', modality: modality ?? modalityOf(m) };
    if (m) p.mime_type = m;
    p.content = info.placeholder;
    return p;
  }
  const p: Part = { type: 'blob', modality: modality ?? modalityOf(mime) };
  if (mime) p.mime_type = mime;
  p.content = base64Placeholder(data, mime);
  return p;
}

export function filePart(fileId: unknown, mime: string | undefined, modality: string | undefined, o?: ContentOptions): Part {
  const p: Part = { type: 'file', modality: modality ?? modalityOf(mime) };
  if (mime) p.mime_type = mime;
  p.file_id = o ? cleanField(toText(fileId), o) : capField(toText(fileId));
  return p;
}

/** Audio input part (chat `input_audio`, Responses `input_audio`). */
export function audioPart(audio: unknown): Part {
  const a = isObj(audio) ? audio : {};
  return blobPart(a.data, audioMime(a.format), 'audio');
}

/** A file attachment: by id, inline data, or URL. */
export function fileAttachmentPart(f: Record<string, any>, o: ContentOptions): Part {
  const mime = cleanMime(f.mime_type) ?? mimeFromName(f.filename) ?? mimeFromName(f.file_url);
  if (typeof f.file_id === 'string') return filePart(f.file_id, mime, undefined, o);
  if (typeof f.file_data === 'string') return blobPart(f.file_data, mime, undefined);
  if (typeof f.file_url === 'string') return mediaPart(f.file_url, undefined, o);
  return genericPart({ type: 'file', ...f }, o);
}

/**
 * Any other part/item: same type, every field sanitized (strings cleaned, base64 replaced). Semconv
 * allows such generic parts, so a kind of part we do not know is still recorded, by its type.
 */
export function genericPart(v: unknown, o: ContentOptions): Part {
  if (!isObj(v)) return { type: 'unknown', content: cleanText(toText(v), o) };
  const s = sanitizeValue(v, o);
  const out: Part = { type: typeof v.type === 'string' ? cleanField(v.type, o) : 'unknown' };
  if (isObj(s)) for (const k of Object.keys(s)) if (k !== 'type') setKey(out, k, s[k]);
  return out;
}

/** How a part of an unknown kind reads where only text fits: `[something_new]`. */
export function unknownPartText(type: string): string {
  return `[${capField(type)}]`;
}

/** Stands for the parts a message had beyond the call's content budget (budget.ts). */
export function omittedPart(count: number, what: string): Part {
  return { type: 'text', content: omissionMarker(count, what) };
}

/** Marks messages left out past the budget: a last text part on the last message recorded. */
export function markOmittedMessages(messages: InputMessage[] | OutputMessage[], count: number, output = false): void {
  const marker = omittedPart(count, 'messages');
  const last = messages[messages.length - 1];
  if (last) last.parts.push(marker);
  else if (output) (messages as OutputMessage[]).push({ role: 'assistant', parts: [marker], finish_reason: '' });
  else (messages as InputMessage[]).push({ role: 'user', parts: [marker] });
}

function jsonText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v == null) return '';
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

function partText(p: Part): string {
  switch (p.type) {
    case 'text':
    case 'reasoning':
      return typeof p.content === 'string' ? p.content : '';
    case 'tool_call':
      return `${typeof p.name === 'string' ? p.name : ''}${jsonText(p.arguments)}`;
    case 'tool_call_response':
      if (Array.isArray(p.response)) {
        return (p.response as Part[])
          .map((x) => (isObj(x) ? partText(x as Part) : jsonText(x)))
          .filter(Boolean)
          .join('\n');
      }
      return jsonText(p.response);
    default:
      return '';
  }
}

/**
 * Concatenated text of a message for token estimation: text, reasoning, tool_call as
 * `name` + arguments JSON, tool_call_response; parts joined by '\n'. Media/server tools count 0.
 */
export function messageText(m: InputMessage | OutputMessage): string {
  const parts = m && Array.isArray(m.parts) ? m.parts : [];
  let out = '';
  for (const p of parts) {
    if (!isObj(p)) continue;
    const s = partText(p as Part);
    if (s) out = out ? `${out}\n${s}` : s;
  }
  return out;
}
