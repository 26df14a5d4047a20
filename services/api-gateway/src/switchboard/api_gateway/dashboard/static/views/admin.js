// Administrators only (the APIs refuse anyone else): users and tiers, rate limits, audit log, metering.

import { date, fmt, messageOf } from "./format.js";

export function adminView() {
  return {
    allowed: false,
    error: "",
    metering: null,
    deadLetters: [],
    users: [],
    userFilter: "",
    limits: null,
    audit: { user_id: "", model: "", status: "", endpoint: "" },
    auditRows: [],
    auditNext: null,
    async load() {
      try {
        await this.loadUsers();
        this.allowed = true;
      } catch (error) {
        this.error = error.status === 403 ? `Administrators only: ${messageOf(error)}` : messageOf(error);
        return;
      }
      await Promise.all([this.loadMetering(), this.loadAudit()]);
    },
    async loadUsers() {
      this.users = (await this.api.get("/api/v1/users", { q: this.userFilter })).data;
    },
    async loadMetering() {
      try {
        this.metering = await this.api.get("/api/v1/metering/status");
        this.deadLetters = (await this.api.get("/api/v1/metering/dead-letters", { limit: 20 })).items;
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    get meteringPending() {
      return this.metering ? fmt(this.metering.pending) : "—";
    },
    get meteringLag() {
      return this.metering ? `${this.metering.lag_seconds.toFixed(1)} s` : "—";
    },
    get lagoState() {
      if (!this.metering) return "—";
      if (this.metering.lago_reachable === null) return "not configured";
      return this.metering.lago_reachable ? "reachable" : "unreachable";
    },
    get meteringDeadLetters() {
      return this.metering ? fmt(this.metering.dead_letters) : "—";
    },
    async showLimits(user) {
      try {
        this.limits = await this.api.get(`/api/v1/users/${encodeURIComponent(user.user_id)}/rate-limit`);
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    limitsLabel(user) {
      return `Rate limits of ${user.user_id}`;
    },
    get limitsCaption() {
      return this.limits ? `Rate limits of ${this.limits.user_id} (tier ${this.limits.tier})` : "";
    },
    get limitRows() {
      return Object.entries(this.limits?.limits || {}).map(([name, window]) => ({
        name: name.replaceAll("_", " "), used: fmt(window.used), limit: fmt(window.limit), resets: date(window.resets_at),
      }));
    },
    get unlimited() {
      return this.limits !== null && this.limitRows.length === 0;
    },
    async loadAudit() {
      await this.fetchAudit(null);
    },
    async moreAudit() {
      await this.fetchAudit(this.auditNext);
    },
    async fetchAudit(before) {
      try {
        const page = await this.api.get("/api/v1/audit", { ...this.audit, limit: 50, before_id: before });
        this.auditRows = before ? [...this.auditRows, ...page.data] : page.data;
        this.auditNext = page.next_before_id;
        this.error = "";
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    get auditMore() {
      return this.auditNext !== null && this.auditNext !== undefined;
    },
    latency(row) {
      return row.latency_ms === null ? "—" : Math.round(row.latency_ms);
    },
    date,
  };
}
