// The Vercel AI SDK bridge: its telemetry spans become llm-otel's calls and runs (tracer.ts, map.ts),
// through a tracer the SDK finds without a global provider, or beside the app's own (install.ts, tee.ts).

import { getRuntime } from '../../instrumentation/runtime.js';
import { installAiSdkTracer } from './install.js';
import { VercelAiTracer } from './tracer.js';

export { globalProviderRegistered } from './install.js';
export { kindOf, VercelAiTracer } from './tracer.js';

/** The tracer that records AI SDK spans into the running pipeline (the one start() configured). */
export function vercelAiTracer(): VercelAiTracer {
  return new VercelAiTracer(getRuntime);
}

/** Called by start(): the SDK's default tracer becomes llm-otel's. Returns the undo, or null. */
export function startVercelAiBridge(): (() => void) | null {
  return installAiSdkTracer(vercelAiTracer());
}
