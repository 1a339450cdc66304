// OTLP/HTTP for metrics, on the same transport as spans (transport.ts: retries that never hold the
// process, unref'd sockets, each attempt's outcome told to ExportHealth). The SDK's serializers
// encode: an export carries a few data points per interval, so its cost does not matter.

import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  createOtlpNetworkExportDelegate,
  getSharedConfigurationDefaults,
  mergeOtlpSharedConfigurationWithDefaults,
  OTLPExporterBase,
} from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExporterMetrics, getSharedConfigurationFromEnvironment } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { type OtlpTarget, unrefAgent } from './exporter.js';
import { ExportHealth } from './health.js';
import { HttpTransport } from './transport.js';

export type MetricTemporality = 'cumulative' | 'delta';

/**
 * `detached`: the reader is answered at once and the request goes on in the background (still
 * awaited by forceFlush): on the app's thread the reader's export timeout is a ref'd timer, which
 * would hold a finished app while a collector does not answer.
 */
class OtlpMetricExporter extends OTLPExporterBase<ResourceMetrics> implements PushMetricExporter {
  private readonly temporality: AggregationTemporality;

  constructor(
    target: OtlpTarget,
    temporality: MetricTemporality,
    private readonly detached: boolean,
  ) {
    const shared = mergeOtlpSharedConfigurationWithDefaults(
      {},
      getSharedConfigurationFromEnvironment('METRICS'),
      getSharedConfigurationDefaults(),
    );
    const url = target.endpoint;
    const json = target.protocol === 'http/json';
    const health = new ExportHealth(url, 'metrics');
    const transport = new HttpTransport({
      url,
      headers: { ...target.headers, 'Content-Type': json ? 'application/json' : 'application/x-protobuf' },
      compression: shared.compression,
      agent: unrefAgent(safeProtocol(url), target.tls),
      health,
      signal: 'metrics',
    });
    super(
      createOtlpNetworkExportDelegate(
        shared,
        (json ? JsonMetricsSerializer : ProtobufMetricsSerializer) as any,
        createOtlpHttpExporterMetrics('otlp_http_metric_exporter', MetricsExporterMetricsHelper, url, undefined),
        transport,
      ),
    );
    // Only histograms are recorded: delta and lowmemory both mean delta for them.
    this.temporality = temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  }

  selectAggregationTemporality(): AggregationTemporality {
    return this.temporality;
  }

  override export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (!this.detached) {
      super.export(metrics, resultCallback);
      return;
    }
    super.export(metrics, () => {}); // failures are reported by the transport
    resultCallback({ code: ExportResultCode.SUCCESS });
  }
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return 'http:';
  }
}

/** The OTLP metric exporter for `target`; timeout and compression come from OTEL_EXPORTER_OTLP_[METRICS_]* env. */
export function createOtlpMetricExporter(
  target: OtlpTarget,
  temporality: MetricTemporality,
  options: { detached?: boolean } = {},
): PushMetricExporter {
  return new OtlpMetricExporter(target, temporality, options.detached === true);
}
