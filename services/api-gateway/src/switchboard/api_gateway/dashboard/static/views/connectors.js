// The user's MCP servers with live status, refreshed while the view is open; the `switchboard connect` command.

import { date, messageOf } from "./format.js";

const REFRESH_MS = 3000;

export function connectorsView() {
  return {
    servers: [],
    error: "",
    copied: "",
    timer: null,
    async load() {
      await this.refresh();
      this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    },
    destroy() {
      clearInterval(this.timer);
    },
    async refresh() {
      try {
        const answer = await this.api.get(`/api/mcp/servers/${encodeURIComponent(this.me.user_id)}`);
        this.servers = answer.servers;
        this.error = "";
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    get noServers() {
      return !this.error && this.servers.length === 0;
    },
    get command() {
      return `SWITCHBOARD_API_KEY=<your API key> switchboard connect --url ${window.location.origin} \\\n`
        + "  --server-id my-server -- <command that starts your MCP server>";
    },
    live(server) {
      return server.connections > 0;
    },
    statusText(server) {
      return this.live(server) ? "Live" : "Offline";
    },
    statusClass(server) {
      return this.live(server) ? "live" : "offline";
    },
    method(server) {
      return server.method === "polling" ? "HTTP polling" : "WebSocket";
    },
    seen(server) {
      return date(server.last_seen);
    },
    toolCount(server) {
      return `${server.tools.length} tool${server.tools.length === 1 ? "" : "s"}`;
    },
    async copyCommand() {
      try {
        await navigator.clipboard.writeText(this.command);
        this.copied = "Copied to the clipboard.";
      } catch {
        this.copied = "Select the command and copy it by hand.";
      }
    },
  };
}
