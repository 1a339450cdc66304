// The app thread's OTLP exporter, loaded when the first span is exported rather than at start-up:
// the exporter's modules (OTLP serializers, the exporter base with its self-metrics) are a good part
// of what `register` would otherwise load before the app's first line — paid even by apps that
// never make an LLM call.

import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpTarget } from './exporter.js';

export function createDeferredOtlpExporter(target: OtlpTarget, stripContent: boolean): SpanExporter {
  let real: Promise<SpanExporter> | null = null;
  const load = (): Promise<SpanExporter> =>
    (real ??= import('./exporter.js').then((m) => m.createOtlpExporter(target, stripContent, { detached: true })));
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      load().then(
        (e) => e.export(spans, done),
        (error: unknown) => done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      );
    },
    forceFlush: async () => {
      if (real) await (await real).forceFlush?.();
    },
    shutdown: async () => {
      if (real) await (await real).shutdown();
    },
  };
}
