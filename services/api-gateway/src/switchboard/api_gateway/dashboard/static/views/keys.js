// API keys (secret shown once) and provider keys (BYOK: only the last four characters ever come back).

import { date, messageOf } from "./format.js";

export function keysView() {
  return {
    keys: [],
    providers: [],
    error: "",
    byokError: "",
    newName: "",
    secret: "",
    copied: "",
    providerName: "anthropic",
    providerKey: "",
    providerUrl: "",
    pending: null,
    confirmTitle: "",
    confirmText: "",
    confirmAction: "",
    async load() {
      await Promise.all([this.loadKeys(), this.loadProviders()]);
    },
    async loadKeys() {
      try {
        this.keys = (await this.api.get("/api/v1/api-keys")).data;
        this.error = "";
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    async loadProviders() {
      try {
        this.providers = (await this.api.get("/api/v1/byok")).data;
        this.byokError = "";
      } catch (error) {
        this.byokError = messageOf(error);
      }
    },
    get noKeys() {
      return !this.error && this.keys.length === 0;
    },
    get providerFormTitle() {
      return this.providers.some((entry) => entry.provider === this.providerName) ? "Replace a provider key" : "Add a provider key";
    },
    masked(key) {
      return `${key.prefix}…${key.last4}`;
    },
    lastFour(entry) {
      return `…${entry.last4}`;
    },
    endpoint(entry) {
      return entry.base_url || "the provider's own";
    },
    revokeLabel(key) {
      return `Revoke ${key.name || key.id}`;
    },
    date,
    async create() {
      try {
        const created = await this.api.post("/api/v1/api-keys", { name: this.newName });
        this.secret = created.key;
        this.copied = "";
        this.newName = "";
        document.getElementById("secret-dialog").showModal();
        await this.loadKeys();
      } catch (error) {
        this.error = messageOf(error);
      }
    },
    async copySecret() {
      try {
        await navigator.clipboard.writeText(this.secret);
        this.copied = "Copied to the clipboard.";
      } catch {
        this.copied = "Copy it by hand: the clipboard is not available here.";
      }
    },
    forgetSecret() {
      this.secret = "";
    },
    askRevoke(key) {
      this.ask({ kind: "key", key }, `Revoke "${key.name || key.id}"?`,
        "Every client using this key stops working at once. This cannot be undone.", "Revoke key");
    },
    askRemove(entry) {
      this.ask({ kind: "provider", entry }, `Remove your ${entry.provider} key?`,
        "Requests for this provider go back to Switchboard's own account.", "Remove key");
    },
    ask(pending, title, text, action) {
      Object.assign(this, { pending, confirmTitle: title, confirmText: text, confirmAction: action });
      document.getElementById("confirm-dialog").showModal();
    },
    async confirm() {
      const pending = this.pending;
      document.getElementById("confirm-dialog").close();
      this.pending = null;
      try {
        if (pending.kind === "key") {
          await this.api.delete(`/api/v1/api-keys/${encodeURIComponent(pending.key.id)}`);
          await this.loadKeys();
        } else {
          await this.api.delete(`/api/v1/byok/${encodeURIComponent(pending.entry.provider)}`);
          await this.loadProviders();
        }
      } catch (error) {
        this[pending.kind === "key" ? "error" : "byokError"] = messageOf(error);
      }
    },
    editProvider(entry) {
      this.providerName = entry.provider;
      this.providerUrl = entry.base_url || "";
      this.providerKey = "";
      document.getElementById("byok-key").focus();
    },
    async saveProvider() {
      const body = { api_key: this.providerKey };
      if (this.providerUrl) body.base_url = this.providerUrl;
      try {
        await this.api.put(`/api/v1/byok/${encodeURIComponent(this.providerName)}`, body);
        this.providerKey = "";
        await this.loadProviders();
      } catch (error) {
        this.byokError = messageOf(error);
      }
    },
  };
}
