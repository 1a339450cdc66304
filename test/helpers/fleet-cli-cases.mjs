// The CLI verbs and arguments, and the dashboard's API views, that the fleet read tests run on a
// SQLite call log and on PostgreSQL holding the same calls, comparing the output byte for byte
// (test/64 on hand-made rows, test/67 on rows shipped by real apps). `f` names what the data holds:
//
//   session, user, agent            one of each, for the filters
//   model, modelGlob, modelCharGlob an exact model, a `*` glob, a `?` glob
//   windows                         [[since, until], …] for `calls --since --until` (first one --json)
//   rollupSince                     for `stats --rollup --since`
//   callIds, spanIds, runSpanIds    for `show` (each human and --json)
//   traces, sessions                for `trace` / `session` (each human and --json)
//   ambiguousTracePrefix            optional: a prefix of two traces (exit 2)
//   priceModel, builtinModel        for `prices list --model`
//   window                          the dashboard's `since=…&until=…`
//
// Each case is { args, code } (code: the expected exit code on both stores).

const ok = (args) => ({ args, code: 0 });

export function verbCases(f) {
  const withJson = (args) => [ok(args), ok([...args, '--json'])];
  return {
    calls: [
      ok(['calls', '--json']),
      ok(['calls']),
      ok(['calls', '--limit', '3']),
      ok(['calls', '--session', f.session]),
      ok(['calls', '--user', f.user, '--json']),
      ok(['calls', '--agent', f.agent]),
      ok(['calls', '--status', 'failed']),
      ok(['calls', '--status', 'timeout', '--json']),
      ok(['calls', '--model', f.modelGlob]),
      ok(['calls', '--model', f.model, '--json']),
      ok(['calls', '--model', f.modelCharGlob]),
      ...f.windows.map(([since, until], i) => ok(['calls', '--since', since, '--until', until, ...(i === 0 ? ['--json'] : [])])),
    ],
    show: [
      ...[...f.callIds.map(String), ...f.spanIds, ...f.runSpanIds].flatMap((id) => withJson(['show', id])),
      { args: ['show', '999999'], code: 1 },
      { args: ['show', 'ffffffffffffffff'], code: 1 },
    ],
    traceSession: [
      ...f.traces.flatMap((t) => withJson(['trace', t])),
      ...f.sessions.flatMap((s) => withJson(['session', s])),
      ...(f.ambiguousTracePrefix ? [{ args: ['trace', f.ambiguousTracePrefix], code: 2 }] : []),
      { args: ['trace', 'ffffffff'], code: 1 },
      { args: ['session', 'nope'], code: 1 },
    ],
    stats: [
      ...['model', 'user', 'agent', 'session', 'provider', 'hour', 'day'].flatMap((by) => withJson(['stats', '--by', by])),
      ...['model', 'user', 'day'].flatMap((by) => [
        ok(['stats', '--rollup', '--by', by]),
        ok(['stats', '--rollup', '--by', by, '--json', '--since', f.rollupSince]),
      ]),
      ok(['stats']),
      ok(['stats', '--json', '--status', 'failed']),
      ok(['latency']),
      ok(['latency', '--json']),
      ok(['latency', '--ttft', '--json']),
      ok(['runs']),
      ok(['runs', '--json']),
      ok(['runs', '--kind', 'tool']),
      ok(['runs', '--agent', f.agent, '--json']),
      ok(['runs', '--status', 'error']),
    ],
    export: [
      ...['calls', 'messages', 'runs'].flatMap((table) =>
        ['csv', 'jsonl'].map((format) => ok(['export', '--format', format, '--table', table])),
      ),
      ok(['export', '--format', 'csv', '--session', f.session, '--limit', '2']),
      ok(['export', '--format', 'csv']),
    ],
    sqlPrices: [
      ...[
        'SELECT count(*) AS n FROM llm_calls',
        'SELECT id, span_id, started_at, ended_at, tags, metadata, attributes FROM llm_calls ORDER BY id',
        'SELECT request_model, sum(input_tokens) AS input, count(*) AS calls FROM llm_calls GROUP BY request_model ORDER BY request_model',
        'SELECT session_id, calls, first_at FROM llm_usage_sessions ORDER BY session_id',
        'SELECT tool_calls FROM llm_messages WHERE tool_calls IS NOT NULL ORDER BY tool_calls',
      ].flatMap((q) => withJson(['sql', q])),
      ok(['sql', 'SELECT id FROM llm_calls ORDER BY id', '--limit', '2']),
      { args: ['sql', 'DELETE FROM llm_calls'], code: 2 },
      ok(['prices', 'list', '--source', 'user']),
      ok(['prices', 'list', '--json', '--source', 'user']),
      ok(['prices', 'list', '--model', f.priceModel]),
      ok(['prices', 'list', '--model', f.builtinModel, '--json']),
    ],
  };
}

/** The dashboard's API views (JSON) and exports (text) for the same data. */
export function uiPaths(f) {
  const w = f.window;
  return {
    json: [
      `/api/overview?${w}`,
      `/api/overview-latency?${w}`,
      `/api/calls?${w}`,
      `/api/calls?${w}&limit=2`,
      `/api/calls?${w}&status=failed`,
      ...f.spanIds.map((id) => `/api/call/${id}`),
      ...f.traces.map((t) => `/api/trace/${t}`),
      `/api/cost?${w}&by=model`,
      `/api/latency?${w}`,
      `/api/latency?${w}&metric=ttft`,
      `/api/errors?${w}`,
      `/api/sessions?${w}`,
      ...f.sessions.map((s) => `/api/session/${encodeURIComponent(s)}`),
      `/api/runs?${w}`,
      `/api/users?${w}`,
      `/api/facets?${w}`,
      '/api/call/00000000000000ff',
    ],
    text: [`/api/export.csv?${w}`, `/api/export.jsonl?${w}&table=messages`],
  };
}
