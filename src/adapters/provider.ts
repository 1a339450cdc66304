// gen_ai.provider.name and server.address/port from the client's baseURL (docs/spans.md). Unknown
// OpenAI-compatible hosts are reported as `openai`, the wire protocol they speak.

const HOST_PROVIDERS: ReadonlyArray<[RegExp, string]> = [
  [
    /(^|\.)openai\.azure\.com$|(^|\.)services\.ai\.azure\.com$|(^|\.)cognitiveservices\.azure\.com$|(^|\.)azure-api\.net$/,
    'azure.ai.openai',
  ],
  [/(^|\.)deepseek\.com$/, 'deepseek'],
  [/(^|\.)groq\.com$/, 'groq'],
  [/(^|\.)x\.ai$/, 'x_ai'],
  [/(^|\.)mistral\.ai$/, 'mistral_ai'],
  [/(^|\.)perplexity\.ai$/, 'perplexity'],
  [/^generativelanguage\.googleapis\.com$/, 'gcp.gemini'],
];

export interface ServerInfo {
  provider: string;
  address?: string;
  port?: number;
}

// Clients keep one baseURL for their lifetime: parse each distinct one once (bounded).
const cache = new Map<string, ServerInfo>();

/** Provider and server from a base URL; `azure` forces azure.ai.openai (AzureOpenAI clients). */
export function providerFromBaseURL(baseURL: string | undefined, azure = false): ServerInfo {
  const key = `${azure ? 1 : 0}${baseURL ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const info = parseBaseURL(baseURL, azure);
  if (cache.size >= 256) cache.clear();
  cache.set(key, info);
  return info;
}

function parseBaseURL(baseURL: string | undefined, azure: boolean): ServerInfo {
  let address: string | undefined;
  let port: number | undefined;
  try {
    if (baseURL) {
      const u = new URL(baseURL);
      address = u.hostname.replace(/^\[|\]$/g, '');
      port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
    }
  } catch {
    /* not a URL: leave server unknown */
  }
  let provider = 'openai';
  if (azure) provider = 'azure.ai.openai';
  else if (address) {
    const host = address.toLowerCase();
    for (const [re, name] of HOST_PROVIDERS)
      if (re.test(host)) {
        provider = name;
        break;
      }
  }
  return { provider, address, port };
}

/** True when `client` is an AzureOpenAI instance of any openai major (matched by class name). */
export function isAzureClient(client: unknown): boolean {
  let proto = client ? Object.getPrototypeOf(client) : null;
  for (let i = 0; proto && i < 5; i++) {
    if (proto.constructor?.name === 'AzureOpenAI') return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}
