// The Path Visualization view's graph, built from one round's traces (the JSON of spyglass/results_ui/paths.py):
// pure functions, no DOM. Nodes are merged by address across agents and traces; an unknown hop (*) is merged only
// with unknown hops at the same position — between the same known neighbours, at the same distance from the one
// before — never with one elsewhere on the path. Long chains of hops (one way in, one way out) fold into one node
// until the viewer opens them.

export const CHAIN_MIN = 4; // hops in a row before they fold

const median = (values) => {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const maxOf = (values) => {
  const known = values.filter((v) => v !== null && v !== undefined);
  return known.length ? Math.max(...known) : null;
};

// The node keys of one trace, agent first: the target when the trace reached it, a key per hop otherwise.
function traceKeys(agent, trace, target) {
  const keys = [`a:${agent.agentId}`];
  const hops = trace.hops || [];
  const last = hops.length - 1;
  const known = (i) => (trace.reached && i === last) || !!hops[i].ipAddress;
  const keyOf = (i) => {
    if (trace.reached && i === last) return "t";
    if (hops[i].ipAddress === target.serverIp && target.serverIp) return "t";
    return `ip:${hops[i].ipAddress}`;
  };
  for (let i = 0; i < hops.length; i++) {
    if (known(i)) {
      keys.push(keyOf(i));
      continue;
    }
    // An unknown hop's position: the known node before it, how far after it, and the known node after it.
    let before = i - 1;
    while (before >= 0 && !known(before)) before--;
    let after = i + 1;
    while (after <= last && !known(after)) after++;
    const prev = before >= 0 ? keyOf(before) : keys[0];
    const next = after <= last ? keyOf(after) : "end";
    keys.push(`?:${prev}:${i - before}:${next}`);
  }
  return keys;
}

// Every node and link of the round for the agents shown: {nodes: Map id → node, edges: Map id → edge}.
export function buildGraph(data, shownAgents) {
  const nodes = new Map();
  const edges = new Map();
  const target = data.target || {};
  const node = (id, make) => {
    if (!nodes.has(id)) nodes.set(id, { id, agents: new Map(), traces: new Set(), rtts: [], losses: [], ...make() });
    return nodes.get(id);
  };
  node("t", () => ({ kind: "target", label: target.server || target.serverIp || "target", address: target.serverIp || "" }));
  for (const agent of data.agents || []) {
    if (shownAgents && !shownAgents.has(String(agent.agentId))) continue;
    const agentNode = node(`a:${agent.agentId}`, () => ({
      kind: "agent",
      label: agent.agentName,
      address: agent.sourceIp || "",
      changed: !!agent.changed,
    }));
    agentNode.agents.set(String(agent.agentId), agent.agentName);
    (agent.traces || []).forEach((trace, index) => {
      const traceId = `${agent.agentId}/${index}`;
      const keys = traceKeys(agent, trace, target);
      agentNode.traces.add(traceId);
      let prevRtt = 0;
      keys.slice(1).forEach((key, i) => {
        const hop = trace.hops[i];
        const n = node(key, () => ({
          kind: key === "t" ? "target" : key.startsWith("?") ? "unknown" : "hop",
          label: hop.ipAddress || "*",
          address: hop.ipAddress || "",
          rdns: hop.rdns || "",
          prefix: hop.prefix || "",
          network: hop.network || "",
          hop: hop.hop,
        }));
        if (key === "t" && !n.rdns) Object.assign(n, { rdns: hop.rdns || "", prefix: hop.prefix || "", network: hop.network || "" });
        n.agents.set(String(agent.agentId), agent.agentName);
        n.traces.add(traceId);
        n.rtts.push({ agent: agent.agentName, rtt: hop.responseTime });
        n.losses.push(hop.loss);
        if (!trace.reached && i === keys.length - 2) n.traceEnds = (n.traceEnds || 0) + 1;
        const from = keys[i];
        const id = `${from}>${key}`;
        if (!edges.has(id)) edges.set(id, { id, source: from, target: key, traces: new Set(), losses: [], delays: [] });
        const edge = edges.get(id);
        edge.traces.add(traceId);
        edge.losses.push(hop.loss);
        const rtt = hop.responseTime;
        edge.delays.push(rtt !== null && rtt !== undefined && prevRtt !== null ? Math.max(0, rtt - prevRtt) : null);
        prevRtt = rtt === undefined ? null : rtt;
      });
    });
  }
  for (const n of nodes.values()) {
    // A hop that never answers has no loss of its own to show (all its probes are "lost" by definition).
    n.loss = n.kind === "unknown" ? null : maxOf(n.losses);
    n.rtt = median(n.rtts.map((r) => r.rtt));
  }
  for (const e of edges.values()) {
    e.loss = nodes.get(e.target).kind === "unknown" ? null : maxOf(e.losses);
    e.delay = median(e.delays);
    e.unknown = nodes.get(e.source).kind === "unknown" || nodes.get(e.target).kind === "unknown";
  }
  if (!data.agents?.some((a) => !shownAgents || shownAgents.has(String(a.agentId)))) nodes.delete("t");
  return { nodes, edges };
}

// Fold each run of at least CHAIN_MIN hops with one link in and one link out into a "chain" node, except the runs
// whose first hop is in `opened`. Returns a new {nodes, edges}; a chain node lists its hops in `members`.
export function foldChains(graph, opened) {
  const ins = new Map();
  const outs = new Map();
  for (const e of graph.edges.values()) {
    ins.set(e.target, [...(ins.get(e.target) || []), e]);
    outs.set(e.source, [...(outs.get(e.source) || []), e]);
  }
  const inner = (id) => {
    const n = graph.nodes.get(id);
    return n && (n.kind === "hop" || n.kind === "unknown") && (ins.get(id) || []).length === 1 && (outs.get(id) || []).length === 1;
  };
  const folded = new Map(); // hop id → chain id
  const chains = [];
  for (const id of graph.nodes.keys()) {
    if (!inner(id)) continue;
    const before = ins.get(id)[0].source;
    if (inner(before)) continue; // not the start of a run
    const run = [id];
    while (inner(outs.get(run[run.length - 1])[0].target)) run.push(outs.get(run[run.length - 1])[0].target);
    if (run.length < CHAIN_MIN || opened.has(run[0])) continue;
    const chainId = `chain:${run[0]}`;
    const members = run.map((m) => graph.nodes.get(m));
    chains.push({
      id: chainId,
      kind: "chain",
      label: `${run.length} hops`,
      members,
      first: run[0],
      agents: new Map(members.flatMap((m) => [...m.agents])),
      traces: new Set(members.flatMap((m) => [...m.traces])),
      loss: maxOf(members.map((m) => m.loss)),
      rtt: members[members.length - 1].rtt,
      unknownInside: members.some((m) => m.kind === "unknown"),
    });
    for (const m of run) folded.set(m, chainId);
  }
  if (!chains.length) return graph;
  const nodes = new Map([...graph.nodes].filter(([id]) => !folded.has(id)));
  for (const chain of chains) nodes.set(chain.id, chain);
  const edges = new Map();
  for (const e of graph.edges.values()) {
    const source = folded.get(e.source) || e.source;
    const target = folded.get(e.target) || e.target;
    if (source === target) continue;
    const id = `${source}>${target}`;
    edges.set(id, { ...e, id, source, target, unknown: e.unknown });
  }
  return { nodes, edges };
}

// The links and nodes on the traces through `nodeId`: what a click highlights.
export function pathsThrough(graph, nodeId) {
  const traces = graph.nodes.get(nodeId)?.traces || new Set();
  const on = (set) => [...set].some((t) => traces.has(t));
  return {
    nodes: new Set([...graph.nodes.values()].filter((n) => on(n.traces)).map((n) => n.id)),
    edges: new Set([...graph.edges.values()].filter((e) => on(e.traces)).map((e) => e.id)),
  };
}
