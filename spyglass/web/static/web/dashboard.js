// The dashboard (and a dashboard snapshot's share page): draws each widget's small timeline with uPlot, offers only the metrics that fit the chosen test,
// reorders widgets by drag and drop (SortableJS; the move buttons are the keyboard's way), and keeps keyboard focus
// on a widget's move button after htmx swaps the board.

const charts = new Map(); // chart container -> uPlot instance
const HEIGHT = 150;
let focusAfterSwap = null;

const pad = (n) => String(n).padStart(2, "0");

function formatValue(value, unit) {
  if (value === null || value === undefined) return "—";
  const text = Math.abs(value) >= 100 ? Math.round(value).toLocaleString() : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
  return `${text} ${unit}`;
}

// 24-hour UTC labels, the date under the first tick and each midnight (as on the results page).
function timeTicks(u, splits) {
  return splits.map((ts, i) => {
    const d = new Date(ts * 1000);
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
    return i === 0 || midnight ? `${time}\n${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : time;
  });
}

function drawChart(container) {
  const data = JSON.parse(container.dataset.chart);
  if (!data.x.length || typeof uPlot === "undefined") return;
  const options = {
    width: container.clientWidth,
    height: HEIGHT,
    series: [
      {},
      {
        label: data.label,
        stroke: "#2563eb",
        width: 1.5,
        fill: "rgba(37, 99, 235, 0.10)",
        spanGaps: false,
        points: { show: false },
        value: (u, v) => formatValue(v, data.unit),
      },
    ],
    scales: {
      x: { time: true, range: [data.start, data.end] },
      // Percentages read best against the whole 0–100 scale; other metrics start at zero.
      y: data.percent ? { range: [0, 100] } : { range: (u, min, max) => [0, max > 0 ? max * 1.15 : 1] },
    },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
    axes: [
      { stroke: "#64748b", grid: { stroke: "#eef2f7" }, ticks: { stroke: "#cbd5e1" }, values: timeTicks, size: 46 },
      {
        stroke: "#64748b",
        grid: { stroke: "#eef2f7" },
        ticks: { show: false },
        size: 48,
        values: (u, splits) => splits.map((v) => v.toLocaleString()),
      },
    ],
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 5 } },
  };
  charts.set(container, new uPlot(options, [data.x, data.y], container));
}

function drawAll() {
  for (const [container, chart] of charts) {
    chart.destroy();
    charts.delete(container);
  }
  for (const container of document.querySelectorAll(".widget-chart[data-chart]")) drawChart(container);
}

// Only the metrics of the chosen test's type can be added; the server refuses the others anyway.
function fitMetrics() {
  const test = document.getElementById("w-test");
  const metric = document.getElementById("w-metric");
  if (!test || !metric) return;
  const type = test.selectedOptions[0]?.dataset.type;
  if (!type) return;
  let firstFitting = null;
  for (const option of metric.options) {
    const fits = option.dataset.types.split(" ").includes(type);
    option.hidden = !fits;
    option.disabled = !fits;
    if (fits && !firstFitting) firstFitting = option;
  }
  if (metric.selectedOptions[0]?.disabled && firstFitting) firstFitting.selected = true;
}

document.addEventListener("change", (event) => {
  if (event.target.id === "w-test") fitMetrics();
});

// A move button is replaced by the swap: remember it, and focus its successor (or its twin at either end).
document.addEventListener("click", (event) => {
  const button = event.target.closest(".widget-controls button[id^=move-]");
  if (button) focusAfterSwap = button.id;
});

// Drag a widget by its head; on drop the whole new order is posted (the board comes back swapped, as after a move).
function makeSortable() {
  const list = document.querySelector("ol.widgets[data-sortable]");
  const form = document.getElementById("widget-order-form");
  if (!list || !form || typeof Sortable === "undefined" || Sortable.get(list)) return;
  Sortable.create(list, {
    handle: ".widget-head",
    filter: "a, button, input, select",
    preventOnFilter: false,
    draggable: "li.widget",
    animation: 150,
    forceFallback: true, // mouse and touch events rather than native drag and drop: the same on every browser
    onEnd: (event) => {
      if (event.oldIndex === event.newIndex) return;
      // Sortable leaves (empty) style attributes behind; htmx's settle would copy them onto the swapped-in widgets
      // with the same id, which the Content-Security-Policy refuses (no inline styles).
      for (const element of list.querySelectorAll("[style]")) {
        if (element.id || element.matches("li.widget")) element.removeAttribute("style");
      }
      for (const input of form.querySelectorAll("input[name=widget]")) input.remove();
      for (const item of list.querySelectorAll("li.widget[data-widget-id]")) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = "widget";
        input.value = item.dataset.widgetId;
        form.append(input);
      }
      form.requestSubmit();
    },
  });
}

// A dashboard snapshot's share page loads no htmx: there the widgets are drawn once, below.
if (typeof htmx !== "undefined") {
  htmx.onLoad((element) => {
    if (element.id !== "dashboard" && !element.querySelector?.("#dashboard")) return;
    drawAll();
    fitMetrics();
    makeSortable();
  });
}

// After htmx has settled (it restores focus by id itself, which fails when that button is now disabled).
document.addEventListener("htmx:afterSettle", () => {
  if (focusAfterSwap) {
    const [, direction, id] = focusAfterSwap.split("-");
    const same = document.getElementById(focusAfterSwap);
    const other = document.getElementById(`move-${direction === "up" ? "down" : "up"}-${id}`);
    (same && !same.disabled ? same : other)?.focus();
    focusAfterSwap = null;
  }
});

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    for (const [container, chart] of charts) chart.setSize({ width: container.clientWidth, height: HEIGHT });
  }, 100);
});

// uPlot and Sortable are deferred classic scripts and this a module: all run after parsing, the module last.
drawAll();
fitMetrics();
makeSortable();
