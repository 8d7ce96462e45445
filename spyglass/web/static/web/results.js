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

function drawChart() {
  const container = document.getElementById("timeline");
  if (chart) {
    chart.destroy();
    chart = null;
  }
  data = readData();
  if (!container || !data || !data.rounds.length || typeof uPlot === "undefined") return;
  selectedIdx = indexOfRound(selectedRoundId());
  const drawn = data.stacked ? stack(data.values) : data.values;
  const series = [
    {},
    ...data.labels.map((label, i) => ({
      label,
      stroke: COLORS[i % COLORS.length],
      width: data.stacked ? 1 : 1.5,
      fill: data.stacked ? `${COLORS[i % COLORS.length]}55` : data.labels.length === 1 ? "rgba(37, 99, 235, 0.08)" : undefined,
      spanGaps: false,
      points: { show: false },
      // The legend shows each part's own value, not the stacked sum.
      value: (u, v, si, idx) => formatValue(idx === null ? null : data.values[i][idx]),
    })),
    {
      label: "Agents with errors",
      stroke: "#dc2626",
      scale: "errors",
      width: 0,
      paths: () => null,
      points: { show: true, size: 5, fill: "#dc2626", stroke: "#dc2626", filter: errorPoints },
      value: (u, v) => (v === null ? "—" : String(v)),
    },
  ];
  const errors = data.errors.map((e) => (e > 0 ? e : null));
  const options = {
    width: container.clientWidth,
    height: 260,
    series,
    scales: {
      x: { time: true, range: [data.start, data.end] },
      // Availability reads best against the whole 0–100 % scale; other metrics fit their data.
      y: data.view === "availability" ? { range: [0, 100] } : {},
      errors: { range: [0, Math.max(...data.agents, 1)] },
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
      { scale: "errors", side: 1, show: false },
    ],
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    legend: { live: true },
    // Stacked parts fill only the band between themselves and the part below.
    bands: data.stacked ? data.labels.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [],
    plugins: [selectionPlugin(), ...(data.changes && data.changes.length ? [changesPlugin()] : [])],
  };
  chart = new uPlot(options, [data.rounds, ...drawn, errors], container);
  chart.over.addEventListener("click", () => {
    const idx = chart.cursor.idx;
    if (idx !== null && idx !== undefined) selectRound(data.rounds[idx]);
  });
}

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

function selectRound(roundId) {
  selectedIdx = indexOfRound(roundId);
  if (chart) chart.redraw(false);
  htmx.ajax("GET", roundUrl(roundId, true), { target: "#round-panel", swap: "outerHTML" }).then(() => {
    history.pushState({ roundId }, "", roundUrl(roundId, false));
  });
}

// The per-agent table sorts by any column; a second click on the same column reverses the order.
function sortTable(th) {
  const table = th.closest("table");
  const index = Array.from(th.parentNode.children).indexOf(th);
  const numeric = th.dataset.sort === "num";
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
}

document.addEventListener("click", (event) => {
  const th = event.target.closest("table.sortable th[data-sort]");
  if (th) sortTable(th);
  if (event.target.closest("#share-button")) openSharePanel();
  if (event.target.closest("[data-close-dialog]")) event.target.closest("dialog")?.close();
  const tab = event.target.closest("#share-panel [role=tab]");
  if (tab) selectTab(tab);
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


// New content from htmx: a new #results (view switch) needs a new chart; a new round panel moves the marker.
// (htmx.onLoad, because the element that triggered a swap is often replaced by it and its events go nowhere.)
htmx.onLoad((element) => {
  if (element.id === "results" || element.querySelector?.("#timeline")) {
    drawChart();
  } else if (element.id === "round-panel" && chart) {
    selectedIdx = indexOfRound(selectedRoundId());
    chart.redraw(false);
  }
});

// Left and right arrow keys step through rounds, like the Previous and Next buttons.
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea, dialog") || event.altKey || event.ctrlKey || event.metaKey) return;
  const button = document.getElementById(event.key === "ArrowLeft" ? "prev-round" : event.key === "ArrowRight" ? "next-round" : "");
  if (button) {
    event.preventDefault();
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
