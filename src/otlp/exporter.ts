// OTLP/HTTP forwarding. Prompts and responses stay local unless the user opts in
// (LLM_OTEL_CAPTURE_CONTENT=all): the content attributes are stripped from the spans handed to
// the OTLP exporter, while the SQLite sink still sees them.

import * as http from 'node:http';
import * as https from 'node:https';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  createOtlpNetworkExportDelegate,
  getSharedConfigurationDefaults,
  mergeOtlpSharedConfigurationWithDefaults,
  OTLPExporterBase,
} from '@opentelemetry/otlp-exporter-base';
import { createOtlpHttpExporterMetrics, getSharedConfigurationFromEnvironment } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { CONTENT, withoutContent } from './content.js';
import { ExportHealth } from './health.js';
import { encodeTraceRequest } from './proto.js';
import { HttpTransport } from './transport.js';

export interface OtlpTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Where and how spans are sent (plain data: it crosses to the writer thread). From config.ts. */
export interface OtlpTarget {
  protocol: 'http/protobuf' | 'http/json';
  /** Full traces URL. */
  endpoint: string;
  headers: Record<string, string>;
  tls: OtlpTls;
}

/**
 * An http(s) agent whose sockets do not keep the process alive: an export in flight to a slow or
 * dead collector must never hold an app that has finished (exit paths flush explicitly, capped).
 * New sockets are unref'd as created; a kept-alive socket is ref'd again by the agent each time a
 * request reuses it (its documented reuseSocket), so that is undone too — else a collector that
 * stops answering on an open connection held the finished app until the export timed out.
 */
export function unrefAgent(protocol: string, tls: OtlpTls): http.Agent {
  const agent = protocol === 'https:' ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
  const a = agent as unknown as {
    createConnection: (opts: unknown, cb: unknown) => { unref?: () => void } | undefined;
    reuseSocket: (socket: { unref?: () => void }, req: unknown) => void;
  };
  const create = a.createConnection.bind(agent);
  a.createConnection = (opts, cb) => {
    const socket = create(opts, cb);
    socket?.unref?.();
    return socket;
  };
  const reuse = a.reuseSocket.bind(agent);
  a.reuseSocket = (socket, req) => {
    reuse(socket, req);
    socket.unref?.();
  };
  return agent;
}

type Serializer = { serializeRequest(spans: ReadableSpan[]): Uint8Array | undefined; deserializeResponse(data: Uint8Array): unknown };

function serializerFor(protocol: OtlpTarget['protocol'], stripContent: boolean): Serializer {
  if (protocol === 'http/json') {
    // JSON is the SDK's serializer; without content it gets copies of the spans (see withoutContent).
    return stripContent
      ? {
          serializeRequest: (spans) => JsonTraceSerializer.serializeRequest(spans.map(withoutContent)),
          deserializeResponse: (d) => JsonTraceSerializer.deserializeResponse(d),
        }
      : JsonTraceSerializer;
  }
  // Protobuf: proto.ts, one pass, content attributes left out while writing.
  const skip = stripContent ? CONTENT : undefined;
  return {
    serializeRequest: (spans) => encodeTraceRequest(spans, skip),
    deserializeResponse: (d) => ProtobufTraceSerializer.deserializeResponse(d),
  };
}

/**
 * OTLP/HTTP as the SDK's exporters send it (the SDK's export delegate: concurrency limit, response
 * handling; timeout and compression from OTEL_EXPORTER_OTLP_*), over otlp-transport.ts (retries
 * that never hold the process, each attempt's outcome told to ExportHealth).
 *
 * `detached`: the export callback is answered at once, the request goes on in the background
 * (still awaited by forceFlush). For the app thread's BatchSpanProcessor, which holds a ref'd
 * timer for as long as an export is in flight: a finished app would otherwise wait for an
 * unanswered request to time out before it could exit.
 */
class OtlpTraceExporter extends OTLPExporterBase<ReadableSpan[]> {
  private readonly health: ExportHealth;
  private readonly concurrencyLimit: number;

  constructor(
    target: OtlpTarget,
    stripContent: boolean,
    private readonly detached: boolean,
  ) {
    const shared = mergeOtlpSharedConfigurationWithDefaults(
      {},
      getSharedConfigurationFromEnvironment('TRACES'),
      getSharedConfigurationDefaults(),
    );
    const url = target.endpoint;
    const contentType = target.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    const health = new ExportHealth(url);
    const transport = new HttpTransport({
      url,
      headers: { ...target.headers, 'Content-Type': contentType },
      compression: shared.compression,
      agent: unrefAgent(safeProtocol(url), target.tls),
      health,
    });
    super(
      createOtlpNetworkExportDelegate(
        shared,
        serializerFor(target.protocol, stripContent) as any,
        createOtlpHttpExporterMetrics('otlp_http_span_exporter', TraceExporterMetricsHelper, url, undefined),
        transport,
      ),
    );
    this.health = health;
    this.concurrencyLimit = shared.concurrencyLimit;
  }

  override export(items: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (!this.detached) {
      super.export(items, resultCallback);
      return;
    }
    // Failed attempts are reported by the transport. Past the delegate's limit of exports in
    // flight the batch is dropped (as a full BatchSpanProcessor queue drops spans): say so once.
    super.export(items, (result) => {
      if (result.code !== ExportResultCode.SUCCESS && /concurrent export limit/i.test(result.error?.message ?? '')) {
        this.health.failed(`${this.concurrencyLimit} exports are waiting for an answer; newer spans are dropped`);
      }
    });
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

/** The OTLP exporter for `target`; timeout and compression come from OTEL_EXPORTER_OTLP_* env. */
export function createOtlpExporter(target: OtlpTarget, stripContent: boolean, options: { detached?: boolean } = {}): SpanExporter {
  return new OtlpTraceExporter(target, stripContent, options.detached === true);
}
