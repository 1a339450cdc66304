// A trace's tree as one line of text, from the call log's rows alone: each run or call under its
// parent (parent_call_id), siblings in start order — e.g.
// `workflow Agent workflow(agent Weather agent(llm[Weather agent] tool get_weather llm[Weather agent]))`.
// Rows whose parent is not among them are roots.

export function runTree({ calls, runs }) {
  const nodes = [
    ...runs.map((r) => ({ id: r.span_id, parent: r.parent_call_id, at: r.started_at, label: `${r.kind} ${r.name}` })),
    ...calls.map((c) => ({ id: c.span_id, parent: c.parent_call_id, at: c.started_at, label: `llm[${c.agent_name}]` })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const ids = new Set(nodes.map((x) => x.id));
  const render = (parent) =>
    nodes
      .filter((x) => (parent === null ? !x.parent || !ids.has(x.parent) : x.parent === parent))
      .map((x) => {
        const kids = render(x.id);
        return kids ? `${x.label}(${kids})` : x.label;
      })
      .join(' ');
  return render(null);
}
