// Chart.js (vendored) renders; every chart has a table beside it with the same numbers, for screen readers and tests.

const charts = new Map();
const PALETTE = ["#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#9333ea"];
const TOKEN_SERIES = [
  ["input_tokens", "Input"],
  ["output_tokens", "Output"],
  ["cache_creation_input_tokens", "Cache writes"],
  ["cache_read_input_tokens", "Cache reads"],
];

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas || !window.Chart) return;
  charts.get(id)?.destroy();
  const motion = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined;
  charts.set(id, new window.Chart(canvas, {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: motion, ...config.options },
  }));
}

export function drawUsage(days, byModel) {
  const labels = days.map((day) => day.key);
  draw("tokens-chart", {
    type: "bar",
    data: {
      labels,
      datasets: TOKEN_SERIES.map(([field, label], index) => ({
        label, data: days.map((day) => day[field]), backgroundColor: PALETTE[index],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  });
  draw("requests-chart", {
    type: "line",
    data: { labels, datasets: [{ label: "Requests", data: days.map((day) => day.requests), borderColor: PALETTE[0],
      backgroundColor: PALETTE[0], tension: 0.2 }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
  });
  draw("models-chart", {
    type: "bar",
    data: {
      labels: byModel.map((row) => row.key),
      datasets: [{ label: "Tokens", data: byModel.map((row) => row.input_tokens + row.output_tokens),
        backgroundColor: byModel.map((_, index) => PALETTE[index % PALETTE.length]) }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } },
  });
}

export function forgetCharts() {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
}
