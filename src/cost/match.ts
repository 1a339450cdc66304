// Model-name normalisation and pattern matching for price lookup.

const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$/;

/** Lower case, vendor prefix removed: `OpenAI/GPT-4o` → `gpt-4o`. */
export function normalizeModel(name: string): string {
  const lower = name.trim().toLowerCase();
  const slash = lower.lastIndexOf('/');
  return slash >= 0 ? lower.slice(slash + 1) : lower;
}

/** `gpt-4o-2024-08-06` → `gpt-4o`, `claude-x-20250514` → `claude-x`, `gpt-4-0613` → `gpt-4`; else null. */
export function stripDateSuffix(name: string): string | null {
  const stripped = name.replace(DATE_SUFFIX, '');
  return stripped !== name && stripped !== '' ? stripped : null;
}

/** Provider-name spellings seen in the wild → the names rows use (gen_ai.provider.name). */
const PROVIDER_ALIASES: Record<string, string> = {
  'x-ai': 'x_ai',
  xai: 'x_ai',
  mistral: 'mistral_ai',
  mistralai: 'mistral_ai',
  gemini: 'gcp.gemini',
  google: 'gcp.gemini',
  moonshotai: 'moonshot',
  kimi: 'moonshot',
  dashscope: 'qwen',
  alibaba: 'qwen',
  azure: 'azure.ai.openai',
};

export function normalizeProvider(p: string | null | undefined): string | null {
  if (p === null || p === undefined) return null;
  const v = p.trim().toLowerCase();
  if (v === '') return null;
  return PROVIDER_ALIASES[v] ?? v;
}

/** A compiled pattern: exact name or a glob with `*`. */
export interface CompiledPattern {
  exact: string | null;
  glob: RegExp | null;
  /** Literal characters: more means more specific. */
  literal: number;
}

export function compilePattern(pattern: string): CompiledPattern {
  let p = pattern.trim().toLowerCase();
  const star = p.indexOf('*');
  // Vendor prefix before any wildcard is dropped, as it is from model names.
  const slash = star < 0 ? p.lastIndexOf('/') : p.lastIndexOf('/', star);
  if (slash >= 0) p = p.slice(slash + 1);
  if (!p.includes('*')) return { exact: p, glob: null, literal: p.length };
  const re = new RegExp(
    '^' +
      p
        .split('*')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return { exact: null, glob: re, literal: p.replace(/\*/g, '').length };
}
