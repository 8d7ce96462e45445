// The Path Visualization view: the selected round's traces as an SVG graph — agents on the left, the target on the
// right, hops between — laid out by ELK (elkjs from npm, loaded only when this View is shown). Hover or focus a node
// for its details, click it (or Enter) to highlight the paths through it, Escape to clear. The agent filter lives in
// the address bar (`agentId=12,13`) like the round and the View, so a reload or a shared address shows the same.
// Every user-written string (agent names, reverse DNS, networks) goes in as text, never as markup.

import { buildGraph, foldChains, pathsThrough } from "./pathgraph.js";

const SVG = "http://www.w3.org/2000/svg";
const SIZES = { agent: [160, 40], target: [170, 40], hop: [22, 22], unknown: [22, 22], chain: [70, 26] };
const state = { opened: new Set(), selected: null, filterInUrl: null, drawing: 0 };

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function html(name, attrs = {}, text) {
  const node = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const fmtMs = (v) => (v === null || v === undefined ? "—" : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ms`);
const fmtLoss = (v) => (v === null || v === undefined ? "—" : `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} %`);
const pad = (n) => String(n).padStart(2, "0");
const utc = (epoch) => {
  const d = new Date(epoch * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
};
const short = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

// Links: colour by loss at their far end, width by the round-trip time they add.
export function lossClass(loss) {
  if (loss === null || loss === undefined) return "loss-unknown";
  if (loss >= 10) return "loss-high";
  if (loss > 0) return "loss-some";
  return "loss-none";
}
const widthOf = (delay) => (delay === null || delay === undefined ? 1.5 : 1.5 + (Math.min(delay, 100) / 100) * 4.5);

let elkReady = null;
function loadElk(src) {
  if (window.ELK) return Promise.resolve(window.ELK);
  if (!elkReady) {
    elkReady = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.ELK);
      script.onerror = () => reject(new Error("the layout library did not load"));
      document.head.append(script);
    });
  }
  return elkReady;
}

// The agent filter from the address bar: a set of agent ids, or null for every agent.
function filterFromUrl() {
  const raw = new URL(window.location.href).searchParams.get("agentId");
  return raw ? new Set(raw.split(",").filter((s) => /^\d+$/.test(s))) : null;
}

function writeFilter(shown, all) {
  const url = new URL(window.location.href);
  const every = !shown || all.every((id) => shown.has(id));
  if (every) url.searchParams.delete("agentId");
  else url.searchParams.set("agentId", [...shown].join(","));
  state.filterInUrl = url.searchParams.get("agentId");
  history.replaceState(history.state, "", url.pathname + url.search);
}

// The previous/next links' addresses carry no agentId: put the viewer's filter back when htmx pushes one.
function keepFilterInUrl() {
  const url = new URL(window.location.href);
  if (!state.filterInUrl || url.searchParams.get("agentId") || url.searchParams.get("view") !== "path-vis") return;
  url.searchParams.set("agentId", state.filterInUrl);
  history.replaceState(history.state, "", url.pathname + url.search);
}
document.body.addEventListener("htmx:pushedIntoHistory", keepFilterInUrl);

function readData(container) {
  try {
    return JSON.parse(container.dataset.paths);
  } catch {
    return null;
  }
}

function agentFilter(container, data, shown, redraw) {
  const box = container.querySelector("#path-agents");
  box.replaceChildren(html("legend", {}, "Agents"));
  const all = data.agents.map((a) => String(a.agentId));
  for (const agent of data.agents) {
    const id = String(agent.agentId);
    const label = html("label", { class: agent.changed ? "path-agent changed" : "path-agent" });
    const input = html("input", { type: "checkbox", value: id, "data-agent-id": id });
    input.checked = !shown || shown.has(id);
    label.append(input, document.createTextNode(` ${agent.agentName}`));
    if (agent.changed) label.append(" ", html("span", { class: "badge badge-changed", title: "The path differs from this agent's previous round with traces" }, "path changed"));
    box.append(label);
  }
  box.onchange = () => {
    const ticked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
    writeFilter(ticked, all);
    state.selected = null;
    redraw();
  };
}

function roundLink(roundId) {
  const url = new URL(window.location.href);
  url.searchParams.set("roundId", String(roundId));
  return url.pathname + url.search;
}

function message(graphBox, data, text) {
  const p = html("p", { class: "muted empty" }, text);
  const others = (data.rounds || []).filter((r) => r !== data.roundId);
  if (others.length) {
    const selected = Number(document.getElementById("round-panel")?.dataset.roundId || 0);
    const nearest = others.reduce((a, b) => (Math.abs(b - selected) < Math.abs(a - selected) ? b : a));
    p.append(" ", html("a", { href: roundLink(nearest), id: "path-nearest-round" }, "Show the nearest round with traces"));
  }
  graphBox.replaceChildren(p);
}

function describe(node) {
  const rows = [];
  if (node.kind === "agent") rows.push(["Agent", node.label], ["Source", node.address]);
  else if (node.kind === "chain") rows.push(["Hops", node.members.map((m) => m.address || "*").join(" → ")]);
  else {
    rows.push(["Address", node.address || "unknown (no answer)"]);
    rows.push(["rDNS", node.rdns], ["Prefix", node.prefix], ["Network", node.network]);
  }
  if (node.kind !== "agent") {
    const perAgent = new Map();
    for (const r of node.rtts || []) perAgent.set(r.agent, [...(perAgent.get(r.agent) || []), r.rtt]);
    const rtt = [...perAgent].map(([agent, values]) => `${agent}: ${values.map(fmtMs).join(", ")}`);
    rows.push(["Round-trip time", rtt.length ? rtt.join("; ") : fmtMs(node.rtt)], ["Loss", fmtLoss(node.loss)]);
  }
  if (node.changed) rows.push(["Path", "changed since this agent's previous round with traces"]);
  if (node.traceEnds) rows.push(["Trace", `${node.traceEnds} trace(s) stopped here without reaching the target`]);
  rows.push(["Agents", [...node.agents.values()].join(", ")]);
  return rows.filter(([, v]) => v !== "" && v !== undefined && v !== null);
}

function showTip(container, node, anchor) {
  const tip = container.querySelector("#path-tip");
  const list = html("dl");
  for (const [k, v] of describe(node)) list.append(html("dt", {}, k), html("dd", {}, v));
  tip.replaceChildren(list);
  tip.hidden = false;
  const box = container.getBoundingClientRect();
  const at = anchor.getBoundingClientRect();
  tip.style.left = `${Math.max(0, Math.min(at.right - box.left + 8, box.width - 320))}px`;
  tip.style.top = `${at.bottom - box.top + 6}px`;
}

function hideTip(container) {
  container.querySelector("#path-tip").hidden = true;
}

function applyHighlight(svg, graph) {
  const lit = state.selected && graph.nodes.has(state.selected) ? pathsThrough(graph, state.selected) : null;
  svg.classList.toggle("has-selection", !!lit);
  for (const g of svg.querySelectorAll("[data-node]")) {
    g.classList.toggle("lit", !!lit && lit.nodes.has(g.dataset.node));
    g.classList.toggle("selected", g.dataset.node === state.selected);
    g.setAttribute("aria-pressed", String(g.dataset.node === state.selected));
  }
  for (const p of svg.querySelectorAll("[data-edge]")) p.classList.toggle("lit", !!lit && lit.edges.has(p.dataset.edge));
}

let tipCount = 0;

// A node's accessible name starts with the text it shows (WCAG 2.5.3, label in name), then says what it is.
function nodeLabel(node) {
  const what = { agent: "agent", target: "target", hop: "hop", unknown: "unknown hop", chain: "folded hops" }[node.kind];
  return `${nodeText(node).join(" ")} (${what}${node.changed ? ", path changed" : ""})`;
}

function nodeText(node) {
  if (node.kind === "unknown") return ["?"];
  if (node.kind === "hop") return [short(node.address, 16)];
  if (node.kind === "chain") return [`+${node.label}`];
  const sub = node.kind === "agent" ? (node.changed ? "path changed" : node.address) : node.address;
  return [short(node.label, 22), sub || ""];
}

function drawNode(node, pos) {
  const [w, h] = SIZES[node.kind];
  const g = el("g", {
    class: `path-node node-${node.kind}${node.changed ? " changed" : ""}${node.traceEnds ? " trace-end" : ""}`,
    transform: `translate(${pos.x},${pos.y})`,
    tabindex: 0,
    role: "button",
    "data-node": node.id,
    "aria-label": nodeLabel(node),
  });
  // The tooltip stays the node's description (aria-describedby) without counting as text it shows: its name
  // must contain what it shows (WCAG 2.5.3), not the tooltip's lines.
  const tipId = `path-node-tip-${++tipCount}`;
  g.setAttribute("aria-describedby", tipId);
  g.append(el("title", { id: tipId, "aria-hidden": "true" }, describe(node).map(([k, v]) => `${k}: ${v}`).join("\n")));
  if (node.kind === "hop" || node.kind === "unknown") {
    g.append(el("circle", { cx: w / 2, cy: h / 2, r: w / 2 - 2, class: lossClass(node.loss) }));
    if (node.kind === "unknown") g.append(el("text", { x: w / 2, y: h / 2 + 4, "text-anchor": "middle" }, nodeText(node)[0]));
    else g.append(el("text", { x: w / 2, y: h + 12, "text-anchor": "middle", class: "hop-label" }, nodeText(node)[0]));
    return g;
  }
  g.append(el("rect", { width: w, height: h, rx: node.kind === "chain" ? h / 2 : 6, class: node.kind === "chain" ? lossClass(node.loss) : null }));
  if (node.kind === "chain") {
    g.append(el("text", { x: w / 2, y: h / 2 + 4, "text-anchor": "middle" }, nodeText(node)[0]));
    return g;
  }
  const [name, sub] = nodeText(node);
  // The trailing space (not drawn) keeps the two lines two words in the node's text, as in its name.
  g.append(el("text", { x: 10, y: 17, class: "node-name" }, `${name} `));
  g.append(el("text", { x: 10, y: 32, class: node.changed ? "node-sub node-changed" : "node-sub" }, sub));
  return g;
}

function drawEdge(edge) {
  const section = edge.sections?.[0];
  if (!section) return null;
  const points = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
  const d = points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
  const link = el("path", {
    d,
    class: `path-link ${lossClass(edge.data.loss)}${edge.data.unknown ? " unknown" : ""}`,
    "stroke-width": widthOf(edge.data.delay).toFixed(2),
    "data-edge": edge.id,
  });
  link.append(el("title", {}, `loss ${fmtLoss(edge.data.loss)}, +${fmtMs(edge.data.delay)} · ${edge.data.traces.size} trace(s)`));
  return link;
}

async function render(container) {
  const data = readData(container);
  const graphBox = container.querySelector("#path-graph");
  if (!data) return message(graphBox, { rounds: [] }, "The path data could not be read.");
  keepFilterInUrl();
  // view_data shows the latest round with traces at or before the selected one: say so when that is another round.
  const note = container.querySelector("#path-note");
  const selected = Number(document.getElementById("round-panel")?.dataset.roundId || 0);
  if (note) {
    note.hidden = !(data.roundId && selected && data.roundId !== selected);
    note.textContent = note.hidden ? "" : `The selected round has no path traces: these are from ${utc(data.roundId)}.`;
  }
  const shown = filterFromUrl();
  state.filterInUrl = shown ? [...shown].join(",") : null;
  const redraw = () => render(container);
  agentFilter(container, data, shown, redraw);
  if (!data.agents?.length) return message(graphBox, data, "No path traces in this round.");
  const graph = foldChains(buildGraph(data, shown), state.opened);
  if (![...graph.nodes.values()].some((n) => n.kind === "agent")) return message(graphBox, { rounds: [] }, "No agent selected.");
  const ticket = ++state.drawing;
  let ELK;
  try {
    ELK = await loadElk(container.dataset.layoutScript);
  } catch (error) {
    return message(graphBox, { rounds: [] }, `The path cannot be drawn: ${error.message}.`);
  }
  const layout = await new ELK().layout({
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.edgeRouting": "POLYLINE",
      // One drawing, agents all in the first column, even for an agent whose trace never joins the others'.
      "elk.separateConnectedComponents": "false",
      "elk.layered.spacing.nodeNodeBetweenLayers": "64",
      "elk.spacing.nodeNode": "30",
      "elk.padding": "[top=12,left=12,bottom=24,right=12]",
    },
    children: [...graph.nodes.values()].map((n) => ({
      id: n.id,
      width: SIZES[n.kind][0],
      height: SIZES[n.kind][1],
      // Agents in the first layer and the target in the last, whatever the lengths of their paths.
      layoutOptions:
        n.kind === "agent" ? { "elk.layered.layering.layerConstraint": "FIRST" } : n.kind === "target" ? { "elk.layered.layering.layerConstraint": "LAST" } : {},
    })),
    edges: [...graph.edges.values()].map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  if (ticket !== state.drawing || !container.isConnected) return; // a newer round or filter is being drawn
  const svg = el("svg", {
    class: "path-svg",
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    role: "group",
    "aria-label": `Paths of ${data.agents.length} agent(s) to ${data.target?.server || "the target"}`,
  });
  const links = el("g", { class: "links" });
  for (const edge of layout.edges) {
    const drawn = drawEdge({ ...edge, data: graph.edges.get(edge.id) });
    if (drawn) links.append(drawn);
  }
  const nodes = el("g", { class: "nodes" });
  // Tab goes left to right, then top to bottom, as a reader scans the graph.
  const ordered = [...layout.children].sort((a, b) => a.x - b.x || a.y - b.y);
  for (const child of ordered) nodes.append(drawNode(graph.nodes.get(child.id), child));
  svg.append(links, nodes);
  graphBox.replaceChildren(svg);
  applyHighlight(svg, graph);

  const nodeOf = (event) => event.target.closest?.("[data-node]");
  const activate = (g) => {
    const node = graph.nodes.get(g.dataset.node);
    if (node.kind === "chain") {
      state.opened.add(node.first);
      state.selected = null;
      redraw().then(() => container.querySelector(`[data-node="${CSS.escape(node.first)}"]`)?.focus());
      return;
    }
    state.selected = state.selected === node.id ? null : node.id;
    applyHighlight(svg, graph);
  };
  svg.addEventListener("mouseover", (e) => nodeOf(e) && showTip(container, graph.nodes.get(nodeOf(e).dataset.node), nodeOf(e)));
  svg.addEventListener("focusin", (e) => nodeOf(e) && showTip(container, graph.nodes.get(nodeOf(e).dataset.node), nodeOf(e)));
  svg.addEventListener("mouseout", (e) => nodeOf(e) && hideTip(container));
  svg.addEventListener("focusout", () => hideTip(container));
  svg.addEventListener("click", (e) => {
    const g = nodeOf(e);
    if (g) activate(g);
    else if (state.selected) {
      state.selected = null;
      applyHighlight(svg, graph);
    }
  });
  svg.addEventListener("keydown", (e) => {
    const g = nodeOf(e);
    if (g && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      e.stopPropagation();
      activate(g);
    } else if (e.key === "Escape") {
      state.selected = null;
      applyHighlight(svg, graph);
      hideTip(container);
    }
  });
  // Arrow keys step through rounds (results.js); inside the graph they must not.
  svg.addEventListener("keydown", (e) => e.key.startsWith("Arrow") && e.stopPropagation());
  const fold = container.querySelector("#path-fold");
  if (fold) {
    fold.hidden = !state.opened.size;
    fold.onclick = () => {
      state.opened.clear();
      redraw();
    };
  }
  container.dataset.drawn = String(data.roundId);
}

function start(root) {
  const container = root.id === "path-vis" ? root : root.querySelector?.("#path-vis");
  if (!container || container.dataset.started) return;
  container.dataset.started = "1";
  render(container);
}

htmx.onLoad(start);
start(document.body);
