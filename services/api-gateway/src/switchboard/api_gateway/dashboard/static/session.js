// The signed-in credential: an API key, or Keycloak tokens from the authorization code flow with PKCE.
// Kept in sessionStorage: it lasts as long as the tab and never reaches another site.

const STORE = "switchboard.credential";
const PENDING = "switchboard.oidc.pending";

export function loadCredential() {
  const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
  return saved ? credentialFrom(saved) : null;
}

export function keyCredential(key) {
  return remember({ kind: "key", key: key.trim() });
}

export function forget() {
  sessionStorage.removeItem(STORE);
}

function remember(saved) {
  sessionStorage.setItem(STORE, JSON.stringify(saved));
  return credentialFrom(saved);
}

function credentialFrom(saved) {
  if (saved.kind === "key") return { kind: "key", headers: () => ({ "x-api-key": saved.key }) };
  return { kind: "oidc", headers: () => ({ authorization: `Bearer ${saved.access_token}` }), saved };
}

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  return `${window.location.origin}/dashboard/`;
}

// Sends the browser to the realm's login page; `finishSignIn` completes the flow when it comes back.
export async function startSignIn(oidc) {
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: window.location.hash }));
  const url = new URL(oidc.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: oidc.client_id, redirect_uri: redirectUri(), scope: oidc.scope,
    state, code_challenge: challenge, code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

// On the way back from the login page: exchange the code (once) for tokens. Returns null when not coming back.
export async function finishSignIn(oidc) {
  const query = new URLSearchParams(window.location.search);
  if (!query.has("code") && !query.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, "", `/dashboard/${pending ? pending.hash : ""}`);
  if (query.has("error")) throw new Error(query.get("error_description") || query.get("error"));
  if (!pending || pending.state !== query.get("state")) throw new Error("The sign-in answer does not match this tab.");
  const response = await fetch(oidc.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: query.get("code"), redirect_uri: redirectUri(),
      client_id: oidc.client_id, code_verifier: pending.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(tokens.error_description || tokens.error || "The sign-in failed.");
  return remember({ kind: "oidc", access_token: tokens.access_token, id_token: tokens.id_token });
}
