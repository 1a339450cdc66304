// `llm-otel/exporter`: the call log for any OpenTelemetry pipeline.
export { SqliteCallLogExporter, type SqliteCallLogExporterOptions } from './SqliteCallLogExporter.js';
export { CallLogSpanProcessor, type CallLogSpanProcessorOptions } from './processor.js';
export { CallLogSink, type CallLogSinkOptions, type SpanSink } from './sink.js';
export { ThreadSink, createSpanSink, type ThreadSinkOptions, type SinkChoice } from './thread-sink.js';
export { DropReporter } from '../src/core/drops.js';
export {
  CallLogWriter, defaultWarner,
  type CallLogWriterOptions, type WriteOptions, type PriceHook, type PriceResult, type EstimateTokens, type Warner,
} from './writer.js';
export {
  spanToItem, toSpanData, itemFromSpanData, spanDataSize, isGenAiSpan, contentLength, CALL_COLUMNS, MESSAGE_COLUMNS, RUN_COLUMNS,
  type SpanData, type CallRow, type MessageRow, type RunRow, type CallItem, type RunItem, type CallLogItem,
} from './rows.js';
export {
  migrate, checkDatabase, schemaVersion, MIGRATIONS, SCHEMA_VERSION, APPLICATION_ID,
  SchemaVersionError, ForeignDatabaseError,
} from './schema.js';
export { openForWriting, type Db, type OpenOptions } from './open.js';
export { openReadOnly, CallLogMissingError, type ReadOnlyOptions } from './store.js';
