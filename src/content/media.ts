// Base64 media never goes on a span: it is replaced by a short placeholder that keeps what is
// useful for debugging (mime type and decoded size).

const MIME_RE = /^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}\/[A-Za-z0-9.+-]{1,100}$/;
const BASE64_RE = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Strings at least this long that are pure base64 are treated as binary payloads. */
export const BASE64_MIN_CHARS = 256;

export function cleanMime(mime: unknown): string | undefined {
  if (typeof mime !== 'string') return undefined;
  const m = mime.trim().toLowerCase();
  return MIME_RE.test(m) ? m : undefined;
}

/** Decoded size of `len` base64 chars ending in `pad` '=' signs. */
function base64Bytes(len: number, pad: number): number {
  return Math.max(0, Math.floor((len * 3) / 4) - pad);
}

function trailingPad(s: string): number {
  let pad = 0;
  for (let i = s.length - 1; i >= 0 && pad < 2 && s.charCodeAt(i) === 61 /* = */; i--) pad++;
  return pad;
}

/** `[base64 image/png 1234 bytes]` (mime omitted when unknown). */
export function base64Placeholder(data: unknown, mime?: string): string {
  const s = typeof data === 'string' ? data : '';
  const bytes = base64Bytes(s.length, trailingPad(s));
  return mime ? `[base64 ${mime} ${bytes} bytes]` : `[base64 ${bytes} bytes]`;
}

export function isDataUrl(s: unknown): s is string {
  return typeof s === 'string' && s.length > 5 && s.charCodeAt(0) === 100 /* d */ && s.startsWith('data:');
}

/** Parse `data:[mime][;params][;base64],payload` without touching the payload. */
export function dataUrlInfo(url: string): { mime: string | undefined; placeholder: string } {
  const comma = url.indexOf(',');
  const header = comma === -1 ? '' : url.slice(5, Math.min(comma, 300));
  const params = header.split(';');
  const mime = cleanMime(params[0]) ?? (params[0] === '' ? 'text/plain' : undefined);
  const isB64 = params.some((p) => p.toLowerCase() === 'base64');
  const payloadLen = comma === -1 ? 0 : url.length - comma - 1;
  if (isB64) {
    const bytes = base64Bytes(payloadLen, trailingPad(url));
    return { mime, placeholder: mime ? `[base64 ${mime} ${bytes} bytes]` : `[base64 ${bytes} bytes]` };
  }
  return { mime, placeholder: `[data ${mime ?? 'unknown'} ${payloadLen} bytes]` };
}

export function looksLikeBase64(s: string): boolean {
  return s.length >= BASE64_MIN_CHARS && BASE64_RE.test(s);
}

/** semconv modality from a mime type; non-media files (pdf, text…) are `document`. */
export function modalityOf(mime: string | undefined, fallback = 'document'): string {
  if (!mime) return fallback;
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('video/')) return 'video';
  return 'document';
}

// Null prototype: a user-supplied 'constructor' must not find Object.prototype's.
const EXT_MIME: Record<string, string> = Object.assign(Object.create(null), {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  heic: 'image/heic',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  md: 'text/markdown',
  html: 'text/html',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
});

/** Mime type from a URL's or file name's extension, if it is a well-known one. */
export function mimeFromName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  let end = name.length;
  const q = name.indexOf('?');
  if (q !== -1) end = q;
  const h = name.indexOf('#');
  if (h !== -1 && h < end) end = h;
  const dot = name.lastIndexOf('.', end);
  if (dot === -1 || end - dot > 6) return undefined;
  if (name.lastIndexOf('/', end) > dot) return undefined;
  return EXT_MIME[name.slice(dot + 1, end).toLowerCase()];
}

const AUDIO_MIME: Record<string, string> = Object.assign(Object.create(null), {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  opus: 'audio/opus',
  aac: 'audio/aac',
  pcm16: 'audio/pcm',
  pcm: 'audio/pcm',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
});

/** Mime type for an OpenAI audio `format` (wav, mp3, …). */
export function audioMime(format: unknown): string | undefined {
  return typeof format === 'string' ? AUDIO_MIME[format.toLowerCase()] : undefined;
}
