// `llm-otel/exporter`: the call log for any OpenTelemetry pipeline.

export { DropReporter } from '../src/core/drops.js';
export { type Db, type OpenOptions, openForWriting } from './open.js';
export { CallLogSpanProcessor, type CallLogSpanProcessorOptions } from './processor.js';
export {
  CALL_COLUMNS,
  type CallItem,
  type CallLogItem,
  type CallRow,
  contentLength,
  isGenAiSpan,
  itemFromSpanData,
  MESSAGE_COLUMNS,
  type MessageRow,
  type ParsedAttributes,
  RUN_COLUMNS,
  type RunItem,
  type RunRow,
  type SpanData,
  spanDataSize,
  spanToItem,
  toSpanData,
} from './rows.js';
export { SqliteCallLogExporter, type SqliteCallLogExporterOptions } from './SqliteCallLogExporter.js';
export {
  APPLICATION_ID,
  checkDatabase,
  ForeignDatabaseError,
  MIGRATIONS,
  migrate,
  SCHEMA_VERSION,
  SchemaVersionError,
  schemaVersion,
  writerId,
} from './schema.js';
export { CallLogSink, type CallLogSinkOptions, type SpanSink } from './sink.js';
export { CallLogMissingError, openReadOnly, type ReadOnlyOptions } from './store.js';
export { createSpanSink, type SinkChoice, ThreadSink, type ThreadSinkOptions } from './thread-sink.js';
export {
  CallLogWriter,
  type CallLogWriterOptions,
  defaultWarner,
  type EstimateTokens,
  type PriceHook,
  type PriceResult,
  type Warner,
  type WriteOptions,
} from './writer.js';
