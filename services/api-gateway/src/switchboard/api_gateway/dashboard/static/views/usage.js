// Usage over a date range: totals, charts per day and per model, CSV export. Figures are /api/v1/usage's, unchanged.

import { drawUsage } from "../charts.js";
import { fmt, isoDay, messageOf } from "./format.js";

const FIELDS = [
  "requests", "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "tool_calls", "mcp_tool_calls", "mcp_tool_errors",
];
const DAY_MS = 86400000;

// Every day of the range, the days without usage as zeros (the API lists only days that had some).
function everyDay(start, end, byDay) {
  const known = new Map(byDay.map((row) => [row.key, row]));
  const days = [];
  for (let when = Date.parse(`${start}T00:00:00Z`); when <= Date.parse(`${end}T00:00:00Z`); when += DAY_MS) {
    const key = isoDay(new Date(when));
    days.push(known.get(key) || Object.fromEntries([["key", key], ...FIELDS.map((field) => [field, 0])]));
  }
  return days;
}

function csv(report) {
  const header = ["section", "key", ...FIELDS].join(",");
  const line = (section, row) => [section, JSON.stringify(row.key), ...FIELDS.map((f) => row[f] || 0)].join(",");
  const rows = [
    ...report.by_day.map((row) => line("day", row)),
    ...report.by_model.map((row) => line("model", row)),
    line("total", { ...report.totals, key: `${report.start}..${report.end}` }),
  ];
  return `${header}\n${rows.join("\n")}\n`;
}

export function usageView() {
  const today = new Date();
  return {
    start: isoDay(new Date(today.getTime() - 29 * DAY_MS)),
    end: isoDay(today),
    report: null,
    days: [],
    error: "",
    loading: false,
    async load() {
      this.loading = true;
      this.error = "";
      try {
        const report = await this.api.get("/api/v1/usage", { start: this.start, end: this.end });
        this.report = report;
        this.days = everyDay(report.start, report.end, report.by_day);
        this.$nextTick(() => drawUsage(this.days, report.by_model));
      } catch (error) {
        this.error = messageOf(error);
      } finally {
        this.loading = false;
      }
    },
    get usedDays() {
      return this.days.filter((row) => row.requests > 0);
    },
    get empty() {
      return !this.report || this.report.totals.requests === 0;
    },
    get successRate() {
      const calls = this.report?.totals.mcp_tool_calls || 0;
      if (!calls) return "no MCP calls";
      const errors = this.report.totals.mcp_tool_errors || 0;
      return `${(((calls - errors) / calls) * 100).toFixed(1)}% of ${fmt(calls)}`;
    },
    get tokensSummary() {
      const totals = this.report?.totals;
      return totals ? `${fmt(totals.input_tokens)} input and ${fmt(totals.output_tokens)} output tokens in the range` : "";
    },
    get requestsSummary() {
      return this.report ? `${fmt(this.report.totals.requests)} requests in the range` : "";
    },
    mcpCell(row) {
      return `${row.mcp_tool_calls || 0} (${row.mcp_tool_errors || 0})`;
    },
    fmt,
    exportCsv() {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([csv(this.report)], { type: "text/csv" }));
      link.download = `switchboard-usage-${this.report.start}-${this.report.end}.csv`;
      link.click();
      URL.revokeObjectURL(link.href);
    },
  };
}
