// gen_ai.provider.name (and server.address/port) from a client's base URL (docs/spans.md):
// unit test of the pure function the instrumentation uses. Process-level tests can only reach
// 127.0.0.1, so the host table is checked here.

import assert from 'node:assert/strict';
import { test } from 'vitest';
import { providerFromBaseURL } from '../dist/esm/src/adapters/provider.js';

// The function returns { provider, address, port }; accept a bare string too.
const provider = (url) => {
  const r = providerFromBaseURL(url);
  return typeof r === 'string' ? r : r.provider;
};

test('known hosts map to their semconv provider names', () => {
  const cases = {
    'https://api.openai.com/v1': 'openai',
    'https://my-resource.openai.azure.com/openai/deployments/gpt-4o': 'azure.ai.openai',
    'https://my-resource.openai.azure.com': 'azure.ai.openai',
    'https://api.deepseek.com': 'deepseek',
    'https://api.deepseek.com/v1': 'deepseek',
    'https://api.groq.com/openai/v1': 'groq',
    'https://api.x.ai/v1': 'x_ai',
    'https://api.mistral.ai/v1': 'mistral_ai',
    'https://api.perplexity.ai': 'perplexity',
    'https://generativelanguage.googleapis.com/v1beta/openai/': 'gcp.gemini',
  };
  const got = Object.fromEntries(Object.keys(cases).map((u) => [u, provider(u)]));
  assert.deepEqual(got, cases);
});

test('anything else speaking the OpenAI protocol is openai', () => {
  for (const u of [
    'http://127.0.0.1:8080/v1',
    'http://localhost:11434/v1',
    'https://api.together.xyz/v1',
    'https://openrouter.ai/api/v1',
    'http://[::1]:8000/v1',
  ]) {
    assert.equal(provider(u), 'openai', u);
  }
});

test('host matching is case-insensitive and on whole labels (no lookalikes)', () => {
  assert.equal(provider('https://API.DEEPSEEK.COM/v1'), 'deepseek');
  assert.equal(provider('https://Api.Groq.Com/openai/v1'), 'groq');
  for (const u of [
    'https://deepseek.com.evil.example/v1',
    'https://notgroq.com/v1',
    'https://x.ai.example.com/v1',
    'https://fakeopenai.azure.com.example.org',
    'https://proxy.example.com/api.deepseek.com/v1',
  ]) {
    assert.equal(provider(u), 'openai', u);
  }
});

test('server address and port come from the URL (default ports by scheme)', () => {
  const r = providerFromBaseURL('https://api.openai.com/v1');
  if (typeof r === 'string') return; // string form: address/port are checked by the process-level tests
  assert.equal(r.address, 'api.openai.com');
  assert.equal(r.port, 443);
  assert.deepEqual(
    [providerFromBaseURL('http://127.0.0.1:8080/v1').address, providerFromBaseURL('http://127.0.0.1:8080/v1').port],
    ['127.0.0.1', 8080],
  );
  assert.equal(providerFromBaseURL('http://localhost/v1').port, 80);
  assert.equal(providerFromBaseURL('http://[::1]:8000/v1').address, '::1');
});

test('bad input never throws and falls back to openai', () => {
  for (const u of [undefined, '', 'not a url', '://', 42]) {
    assert.doesNotThrow(() => providerFromBaseURL(u));
    assert.equal(provider(u), 'openai', String(u));
  }
});
