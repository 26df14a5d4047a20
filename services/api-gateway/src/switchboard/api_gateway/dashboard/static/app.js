// The dashboard: who is signed in, which view shows (from the URL's #/view), and the views' components.

import { createApi } from "./api.js";
import { forgetCharts } from "./charts.js";
import { finishSignIn, forget, keyCredential, loadCredential, startSignIn } from "./session.js";
import { adminView } from "./views/admin.js";
import { connectorsView } from "./views/connectors.js";
import { keysView } from "./views/keys.js";
import { usageView } from "./views/usage.js";

const VIEWS = ["usage", "keys", "connectors", "admin"];

function viewFromHash() {
  const name = window.location.hash.replace(/^#\/?/, "");
  return VIEWS.includes(name) ? name : "usage";
}

function dashboard() {
  return {
    credential: null,
    api: null,
    me: null,
    oidc: null,
    view: viewFromHash(),
    keyInput: "",
    signInError: "",
    async init() {
      window.addEventListener("hashchange", () => this.show(viewFromHash()));
      this.oidc = (await (await fetch("/dashboard/config.json")).json()).oidc;
      try {
        const returned = this.oidc ? await finishSignIn(this.oidc) : null;
        await this.use(returned || loadCredential());
      } catch (error) {
        this.signInError = error.message;
      }
    },
    async use(credential) {
      if (!credential) return;
      const api = createApi(credential, (message) => this.signOut(message));
      this.me = await api.get("/api/v1/me");
      this.credential = credential;
      this.api = api;
      this.view = viewFromHash();
    },
    async signInWithKey() {
      this.signInError = "";
      try {
        await this.use(keyCredential(this.keyInput));
        this.keyInput = "";
      } catch (error) {
        forget();
        this.signInError = error.message;
      }
    },
    async signInWithKeycloak() {
      await startSignIn(this.oidc);
    },
    signOut(message) {
      forget();
      forgetCharts();
      this.credential = this.api = this.me = null;
      this.signInError = typeof message === "string" ? message : "";
    },
    show(view) {
      forgetCharts();
      this.view = view;
      document.getElementById("main")?.focus();
    },
    get signedIn() {
      return this.me !== null;
    },
    get signedOut() {
      return this.me === null;
    },
    get oidcAvailable() {
      return Boolean(this.oidc);
    },
    isView(name) {
      return this.view === name;
    },
    current(name) {
      return this.view === name ? "page" : null;
    },
    get currentUsage() { return this.current("usage"); },
    get currentKeys() { return this.current("keys"); },
    get currentConnectors() { return this.current("connectors"); },
    get currentAdmin() { return this.current("admin"); },
  };
}

document.addEventListener("alpine:init", () => {
  const Alpine = window.Alpine;
  Alpine.data("dashboard", dashboard);
  Alpine.data("usageView", usageView);
  Alpine.data("keysView", keysView);
  Alpine.data("connectorsView", connectorsView);
  Alpine.data("adminView", adminView);
});
