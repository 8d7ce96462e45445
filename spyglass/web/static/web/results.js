// The results page: draws the timeline with uPlot, selects a round on click (the table is fetched with htmx and the
// URL updated so it can be shared or reloaded), sorts the per-agent table, opens the sharing panel.
// The Path Visualization View draws itself (pathvis.js), on every page that loads this one.
import "./pathvis.js";

const COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777"];
let chart = null;
let data = null;
let selectedIdx = null;

// The chart's data travels in a data attribute (htmx drops <script> elements from swapped content).
function readData() {
  const node = document.getElementById("timeline");
  return node && node.dataset.chart ? JSON.parse(node.dataset.chart) : null;
}

function selectedRoundId() {
  const panel = document.getElementById("round-panel");
  const value = panel && panel.dataset.roundId;
  return value ? Number(value) : null;
}

function indexOfRound(roundId) {
  if (!data || roundId === null) return null;
  const i = data.rounds.indexOf(roundId);
  return i >= 0 ? i : null;
}

// Draws a vertical marker at the selected round.
function selectionPlugin() {
  return {
    hooks: {
      draw: (u) => {
        if (selectedIdx === null) return;
        const x = Math.round(u.valToPos(data.rounds[selectedIdx], "x", true));
        const { top, height } = u.bbox;
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#0f172a";
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.restore();
      },
    },
  };
}

// The Path Visualization View's timeline: a mark (a thin line under a small triangle at the top) at every round in
// which an agent's path changed, `changes` in the chart's data. The list under the chart says the same in text.
const CHANGE_COLOR = "#b45309";
function changesPlugin() {
  return {
    hooks: {
      draw: (u) => {
        const { top, height } = u.bbox;
        const size = 5 * devicePixelRatio;
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = CHANGE_COLOR;
        ctx.strokeStyle = CHANGE_COLOR;
        ctx.lineWidth = devicePixelRatio;
        for (const roundId of data.changes) {
          const x = Math.round(u.valToPos(roundId, "x", true));
          ctx.globalAlpha = 0.45;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.globalAlpha = 1;
          ctx.beginPath();
          ctx.moveTo(x - size, top);
          ctx.lineTo(x + size, top);
          ctx.lineTo(x, top + 1.6 * size);
          ctx.closePath();
          ctx.fill();
        }
        ctx.restore();
      },
    },
  };
}

function formatValue(value) {
  if (value === null || value === undefined) return "—";
  const unit = data.unit === "%" ? " %" : ` ${data.unit}`;
  return (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2)) + unit;
}

// 2026-11-22 13:36 UTC: the page's own way of writing a round (24-hour, UTC), in the legend as in the table.
function roundLabel(ts) {
  const d = new Date(ts * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

// The legend shows the round under the pointer, and the selected round's values when the pointer is elsewhere
// (uPlot passes idx null then), never "--".
const shownIdx = (idx) => (idx === null || idx === undefined ? selectedIdx : idx);

function showSelectedInLegend() {
  if (chart && (chart.cursor.idx === null || chart.cursor.idx === undefined)) chart.setLegend({ idx: selectedIdx });
}

// Per-agent lines (the "Per agent" toggle): fetched once per chart from data.linesUrl, null when off.
let agentLines = null;

function metricSeries() {
  if (agentLines) {
    const at = new Map(agentLines.rounds.map((r, j) => [r, j]));
    return agentLines.agents.map((agent, i) => {
      const values = data.rounds.map((r) => (at.has(r) ? agent.values[at.get(r)] : null));
      return {
        values,
        drawn: values,
        spec: {
          label: agent.name,
          stroke: AGENT_COLORS[i % AGENT_COLORS.length],
          width: 1.5,
          spanGaps: false,
          points: { show: data.rounds.length < 2, size: 7 },
          value: (u, v, si, idx) => formatValue(shownIdx(idx) === null ? null : values[shownIdx(idx)]),
        },
      };
    });
  }
  const drawn = data.stacked ? stack(data.values) : data.values;
  return data.labels.map((label, i) => ({
    values: data.values[i],
    drawn: drawn[i],
    spec: {
      label,
      stroke: COLORS[i % COLORS.length],
      width: data.stacked ? 1 : 1.5,
      fill: data.stacked ? `${COLORS[i % COLORS.length]}55` : data.labels.length === 1 ? "rgba(37, 99, 235, 0.08)" : undefined,
      spanGaps: false,
      // A lone round (or a window of one) is a point: a line needs two.
      points: { show: data.rounds.length < 2, size: 7, fill: COLORS[i % COLORS.length] },
      // The legend shows each part's own value, not the stacked sum.
      value: (u, v, si, idx) => formatValue(shownIdx(idx) === null ? null : data.values[i][shownIdx(idx)]),
    },
  }));
}

const AGENT_COLORS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#4d7c0f", "#b91c1c", "#0f766e", "#7c3aed", "#a16207", "#334155"];

function drawChart() {
  const container = document.getElementById("timeline");
  if (chart) {
    chart.destroy();
    chart = null;
  }
  const fresh = readData();
  if (!data || !fresh || fresh.linesUrl !== data.linesUrl) agentLines = null;
  data = fresh;
  syncAgentToggle();
  if (!container || !data || !data.rounds.length || typeof uPlot === "undefined") return;
  selectedIdx = indexOfRound(selectedRoundId());
  const metrics = metricSeries();
  const maxErrors = Math.max(1, ...data.errors);
  const series = [
    // The round under the pointer, or the selected one: 24-hour UTC like the rest of the page.
    { value: (u, v, si, idx) => (shownIdx(idx) === null ? "—" : roundLabel(data.rounds[shownIdx(idx)])) },
    ...metrics.map((m) => m.spec),
    {
      label: "Agents with errors",
      stroke: "#dc2626",
      scale: "errors",
      width: 0,
      paths: () => null,
      points: { show: true, size: 6, fill: "#dc2626", stroke: "#dc2626", filter: errorPoints },
      value: (u, v, si, idx) => (shownIdx(idx) === null ? "—" : String(data.errors[shownIdx(idx)])),
    },
  ];
  const errors = data.errors.map((e) => (e > 0 ? e : null));
  // One round alone (a window of one round) gets half an interval either side, so its point is not on the edge.
  const xRange = data.start < data.end ? [data.start, data.end] : [data.start - data.interval / 2, data.end + data.interval / 2];
  const options = {
    width: container.clientWidth,
    height: 260,
    series,
    scales: {
      x: { time: true, range: xRange },
      // Availability reads best against the whole 0–100 % scale; other metrics fit their data.
      y: data.view === "availability" ? { range: [0, 100] } : {},
      // Agents with errors: a count of its own, on the right axis, from 0 to the most agents in a round with errors.
      errors: { range: [0, maxErrors] },
    },
    // Everything on the page is in UTC, like the table's round labels and the API's dates.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    axes: [
      { stroke: "#475569", grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#cbd5e1" }, values: timeTicks },
      {
        stroke: "#475569",
        grid: { stroke: "#e2e8f0" },
        ticks: { stroke: "#cbd5e1" },
        size: 60,
        label: data.unit,
        values: (u, splits) => splits.map((v) => (v === null ? "" : v.toLocaleString())),
      },
      {
        scale: "errors",
        side: 1,
        stroke: "#b91c1c",
        label: "Agents with errors",
        labelSize: 20,
        size: 44,
        grid: { show: false },
        ticks: { stroke: "#fca5a5" },
        // Whole agents only: ticks at integers, at most about five of them.
        splits: () => integerSplits(maxErrors),
        values: (u, splits) => splits.map((v) => String(v)),
      },
    ],
    // Per-agent lines: the line nearest the pointer stands out and its agent is named beside the chart.
    cursor: { drag: { x: false, y: false }, points: { size: 6 }, ...(agentLines ? { focus: { prox: 24 } } : {}) },
    ...(agentLines ? { focus: { alpha: 0.3 } } : {}),
    hooks: agentLines ? { setSeries: [nameFocusedAgent] } : {},
    legend: { live: true },
    // Stacked parts fill only the band between themselves and the part below.
    bands: data.stacked && !agentLines ? data.labels.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [],
    plugins: [selectionPlugin(), ...(data.changes && data.changes.length ? [changesPlugin()] : [])],
  };
  chart = new uPlot(options, [data.rounds, ...metrics.map((m) => m.drawn), errors], container);
  container.uplot = chart; // for the browser tests: where a round is drawn
  showSelectedInLegend();
  // A click or a tap selects the round nearest to it (from the event's own position: a tap moves no cursor first).
  chart.over.addEventListener("click", (event) => {
    const rect = chart.over.getBoundingClientRect();
    const ts = chart.posToVal(event.clientX - rect.left, "x");
    selectRound(data.rounds[nearestIndex(ts)], "chart");
  });
  chart.over.addEventListener("mouseleave", () => window.setTimeout(showSelectedInLegend, 0));
}

// The agent whose line is nearest the pointer (uPlot's series focus), named in #agent-hover; hidden otherwise.
function nameFocusedAgent(u, seriesIdx, opts) {
  const tag = document.getElementById("agent-hover");
  if (!tag || !agentLines) return;
  const agent = seriesIdx !== null && opts && opts.focus ? agentLines.agents[seriesIdx - 1] : null;
  tag.hidden = !agent;
  tag.textContent = agent ? agent.name : "";
}

function nearestIndex(ts) {
  let lo = 0;
  let hi = data.rounds.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (data.rounds[mid] < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && ts - data.rounds[lo - 1] < data.rounds[lo] - ts ? lo - 1 : lo;
}

function integerSplits(max) {
  const step = Math.max(1, Math.ceil(max / 5));
  const out = [];
  for (let v = 0; v <= max; v += step) out.push(v);
  return out;
}

// The "Per agent" toggle: one line per agent (at most the first dozen), fetched on demand as JSON.
function syncAgentToggle() {
  const button = document.getElementById("agent-lines");
  if (!button) return;
  button.setAttribute("aria-pressed", String(agentLines !== null));
  const note = document.getElementById("agent-lines-note");
  if (note) {
    note.hidden = agentLines === null;
    if (agentLines) {
      const shown = agentLines.agents.length;
      note.textContent =
        shown < agentLines.total
          ? `One line per agent: the ${shown} of ${agentLines.total} agents with the highest average are drawn.`
          : `One line per agent (${shown}).`;
    }
  }
}

async function toggleAgentLines() {
  if (!data || !data.linesUrl) return;
  if (agentLines) {
    agentLines = null;
    drawChart();
    announce("Average across agents");
    return;
  }
  const response = await fetch(data.linesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    announce("The per-agent lines could not be loaded");
    return;
  }
  agentLines = await response.json();
  drawChart();
  const tag = document.getElementById("agent-hover");
  if (tag) tag.hidden = true;
  announce(`One line per agent: ${agentLines.agents.map((a) => a.name).join(", ")}`);
}

// "Show as table": the chart's rounds as a data table, built from the chart's data when first opened (a 7-day
// period holds thousands of rounds: the page does not carry them twice).
function fillChartTable(details) {
  const body = details.querySelector("tbody");
  if (!body || body.rows.length || !data) return;
  const rows = data.rounds.map((roundId, j) => {
    const row = document.createElement("tr");
    if (j === selectedIdx) row.className = "row-highlight";
    const head = document.createElement("th");
    head.scope = "row";
    head.textContent = roundLabel(roundId);
    row.append(head);
    for (const value of [...data.values.map((part) => part[j]), data.agents[j], data.errors[j]]) {
      const cell = document.createElement("td");
      cell.className = "num";
      cell.textContent = value === null || value === undefined ? "—" : String(value);
      row.append(cell);
    }
    return row;
  });
  body.append(...rows);
}
document.addEventListener(
  "toggle",
  (event) => {
    if (event.target.id === "chart-table" && event.target.open) fillChartTable(event.target);
  },
  true,
);

// Running sums of the parts, so each part is drawn on top of the ones before it.
function stack(values) {
  const sums = new Array(data.rounds.length).fill(0);
  return values.map((part) =>
    part.map((v, j) => {
      if (v === null || sums[j] === null) {
        sums[j] = null;
        return null;
      }
      sums[j] += v;
      return sums[j];
    }),
  );
}

const pad = (n) => String(n).padStart(2, "0");

// 24-hour UTC tick labels; the date under the first tick and under each midnight.
function timeTicks(u, splits) {
  return splits.map((ts, i) => {
    const d = new Date(ts * 1000);
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
    return i === 0 || midnight ? `${time}\n${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : time;
  });
}

function errorPoints(u, seriesIdx, show) {
  if (!show) return null;
  const values = u.data[seriesIdx];
  const out = [];
  for (let i = 0; i < values.length; i++) if (values[i] !== null) out.push(i);
  return out;
}

// The round's address: `partial` is where htmx fetches the round panel (a share page's data requests), the other the
// page's own address that goes into the address bar.
function roundUrl(roundId, partial) {
  const url = new URL(partial ? data.roundUrl : data.pageUrl, window.location.href);
  url.searchParams.set("roundId", String(roundId));
  // The agents the address names (a permalink's row, the path view's filter) stay named in the next round.
  const agents = new URL(window.location.href).searchParams.get("agentId");
  if (agents) url.searchParams.set("agentId", agents);
  return url.pathname + url.search;
}

function selectRound(roundId, via) {
  selectedIdx = indexOfRound(roundId);
  if (chart) {
    chart.redraw(false);
    showSelectedInLegend();
  }
  pending = { kind: via || "chart", key: null };
  htmx.ajax("GET", roundUrl(roundId, true), { target: "#round-panel", swap: "outerHTML" }).then(() => {
    history.pushState({ roundId }, "", roundUrl(roundId, false));
  });
}

// The per-agent table sorts by any column: its headers are buttons inside their th; a second press on the same
// column reverses the order. aria-sort stays on the sorted column's th only.
function sortTable(th) {
  const table = th.closest("table");
  const index = Array.from(th.parentNode.children).indexOf(th);
  const numeric = th.querySelector("[data-sort]")?.dataset.sort === "num";
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const key = (row) => {
    const cell = row.cells[index];
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    return numeric ? (raw === "" ? null : Number(raw)) : raw.toLowerCase();
  };
  rows.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) return 0;
    if (ka === null) return 1; // missing values last, whatever the direction
    if (kb === null) return -1;
    return (ka < kb ? -1 : 1) * (ascending ? 1 : -1);
  });
  body.append(...rows);
  announce(`Sorted by ${th.textContent.trim()}, ${ascending ? "ascending" : "descending"}`);
}

document.addEventListener("click", (event) => {
  const sortButton = event.target.closest("#round-table th button[data-sort]");
  if (sortButton) sortTable(sortButton.closest("th"));
  if (event.target.closest("#share-button")) openSharePanel();
  if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog")?.close();
  const tab = event.target.closest("#share-panel [role=tab]");
  if (tab) selectTab(tab);
  if (event.target.closest("#agent-lines")) toggleAgentLines();
  // What the next swap changes, so that focus can come back to the control used and the change be announced.
  const view = event.target.closest("#view-tabs a[data-view]");
  if (view) pending = { kind: "view", key: view.dataset.view, label: view.textContent.trim() };
  const period = event.target.closest(".periods a[data-period]");
  if (period) pending = { kind: "period", key: period.dataset.period, label: period.dataset.label || period.textContent.trim() };
  const step = event.target.closest("#prev-round, #next-round, [data-change-round]");
  if (step) pending = { kind: "round", key: step.id || null };
});

function selectTab(tab) {
  for (const other of tab.parentNode.querySelectorAll("[role=tab]")) {
    const selected = other === tab;
    other.classList.toggle("active", selected);
    other.setAttribute("aria-selected", String(selected));
    document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
  }
  // The snapshot buttons belong to the Snapshot Sharing tab; Export Data has its own links.
  const buttons = document.querySelector("#share-panel .share-buttons");
  const canShare = document.getElementById("share-result") !== null;
  if (buttons) buttons.hidden = !canShare || tab.id !== "share-tab-snapshot-button";
}

// The panel works on what the page shows when it opens: the selected round and the active View.
function openSharePanel() {
  const panel = document.getElementById("share-panel");
  if (!panel) return;
  const roundId = selectedRoundId();
  const view = document.querySelector("#view-tabs a.active")?.dataset.view;
  const set = (id, value) => {
    const input = document.getElementById(id);
    if (input && value !== null && value !== undefined) input.value = String(value);
  };
  set("share-round-id", roundId);
  set("share-view", view);
  const label = document.getElementById("round-label");
  const target = document.getElementById("share-round-label");
  if (label && target) target.textContent = label.textContent;
  const result = document.getElementById("share-result");
  if (result) result.replaceChildren();
  updateExportLinks();
  panel.showModal();
}

const pad2 = (n) => String(n).padStart(2, "0");
function v6Date(epoch) {
  const d = new Date(epoch * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

// Export Data: the v6 query for up to an hour ending at (or around) the selected round, in JSON or XML.
function updateExportLinks() {
  const options = document.getElementById("export-options");
  const roundId = selectedRoundId();
  if (!options || roundId === null) return;
  const seconds = Number(document.getElementById("export-minutes").value) * 60;
  const around = document.getElementById("export-position").value === "around";
  const to = around ? roundId + seconds / 2 : roundId;
  const from = to - seconds;
  const format = document.getElementById("export-format").value;
  for (const link of document.querySelectorAll("[data-export-path]")) {
    // The format goes in the path suffix: it wins over the browser's Accept header (which prefers XML).
    const query = new URLSearchParams({ from: v6Date(from), to: v6Date(to), aid: options.dataset.aid });
    link.href = `${link.dataset.exportPath}.${format}?${query}`;
    const shown = document.querySelector(`[data-export-url-for="${link.dataset.exportPath}"]`);
    if (shown) shown.textContent = link.href.replace(window.location.origin, "");
  }
}
document.addEventListener("change", (event) => {
  if (event.target.closest("#export-options")) updateExportLinks();
});


// The polite live region beside the component says what changed (a round, a View, a period).
function announce(text) {
  const region = document.getElementById("results-status");
  if (!region) return;
  // A new text node each time, so that the same words said twice are announced twice.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function roundAnnouncement() {
  const label = document.getElementById("round-label");
  return label ? `Round ${label.textContent.trim()} selected` : "No round selected";
}

// What the user did last that swaps part of the page: {kind: "view" | "period" | "round" | "chart", key, label}.
let pending = null;

// After a swap focus comes back to the control used (its replacement), or to the new content's heading.
function restoreFocus(done) {
  let target = null;
  if (done.kind === "view") target = document.querySelector(`#view-tabs a[data-view="${done.key}"]`);
  else if (done.kind === "period") target = document.querySelector(`.periods a[data-period="${done.key}"]`);
  else if (done.kind === "chart") target = document.getElementById("timeline");
  else if (done.kind === "round") target = (done.key && document.getElementById(done.key)) || document.getElementById("round-heading");
  if (!target && done.kind !== "chart") target = document.getElementById("round-heading");
  if (target && target !== document.activeElement) target.focus({ preventScroll: true });
}

// New content from htmx: a new #results (view switch) needs a new chart; a new round panel moves the marker.
// (htmx.onLoad, because the element that triggered a swap is often replaced by it and its events go nowhere.)
htmx.onLoad((element) => {
  const done = pending;
  if (element.id === "results" || element.querySelector?.("#timeline")) {
    drawChart();
    if (done && (done.kind === "view" || done.kind === "period")) {
      pending = null;
      restoreFocus(done);
      const active = done.kind === "view" ? `View: ${done.label}` : `Period: ${done.label}`;
      announce(`${active}. ${roundAnnouncement()}`);
    }
  } else if (element.id === "round-panel") {
    if (chart) {
      selectedIdx = indexOfRound(selectedRoundId());
      chart.redraw(false);
      showSelectedInLegend();
    }
    if (done && (done.kind === "round" || done.kind === "chart")) {
      pending = null;
      restoreFocus(done);
    }
    announce(roundAnnouncement());
  }
});

// Left and right arrow keys step through rounds, like the Previous and Next buttons (on the focused chart too;
// Home and End there select the first and the last round).
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, dialog") || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.target.closest("#timeline") && data && data.rounds.length) {
    const current = selectedIdx === null ? data.rounds.length - 1 : selectedIdx;
    const moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: data.rounds.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      const idx = Math.max(0, Math.min(data.rounds.length - 1, moves[event.key]));
      if (idx !== selectedIdx) selectRound(data.rounds[idx], "chart");
      return;
    }
  }
  if (event.target.closest("#round-table, .table-scroll")) return; // arrows scroll the table's box there
  const button = document.getElementById(event.key === "ArrowLeft" ? "prev-round" : event.key === "ArrowRight" ? "next-round" : "");
  if (button) {
    event.preventDefault();
    pending = { kind: "round", key: button.id };
    button.click();
  }
});

// Back and forward through rounds picked on the timeline: reload that address (htmx handles its own entries).
window.addEventListener("popstate", (event) => {
  if (!event.state || !event.state.htmx) window.location.reload();
});
window.addEventListener("resize", () => {
  const container = document.getElementById("timeline");
  if (chart && container) chart.setSize({ width: container.clientWidth, height: 260 });
});

if (!chart) drawChart();
