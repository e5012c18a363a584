// Single sign-on for the dashboard, when the server has an identity provider (GET /v1/auth/oidc):
// the OAuth 2.0 authorization-code flow with PKCE (RFC 7636), all in this tab. The verifier and
// state stay in sessionStorage; the code leaves the address bar as soon as the page reads it; the
// provider's access token then signs in exactly as a pasted token does (app.js's signIn), and is
// sent only in Authorization headers. Loaded after app.js, whose signIn/signOut/$ it uses.
"use strict";

(() => {
  const KEY = "failsafe.oidc";
  const b64url = (bytes) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
  const redirectUri = () => `${location.origin}/dashboard/`;

  async function start(cfg) {
    const verifier = random();
    const state = random();
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    sessionStorage.setItem(KEY, JSON.stringify({
      verifier, state, token_endpoint: cfg.token_endpoint, client_id: cfg.client_id,
    }));
    const params = new URLSearchParams({
      response_type: "code", client_id: cfg.client_id, redirect_uri: redirectUri(),
      scope: cfg.scope, state, code_challenge: b64url(digest), code_challenge_method: "S256",
    });
    location.assign(`${cfg.authorization_endpoint}?${params}`);
  }

  async function finish(params) {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    sessionStorage.removeItem(KEY);
    history.replaceState(null, "", location.pathname);
    if (params.has("error")) throw new Error(params.get("error"));
    if (!saved || params.get("state") !== saved.state) {
      throw new Error("the answer does not belong to this tab's sign-in");
    }
    const response = await fetch(saved.token_endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code", code: params.get("code"),
        redirect_uri: redirectUri(), client_id: saved.client_id, code_verifier: saved.verifier,
      }),
    });
    if (!response.ok) throw new Error(`the identity provider answered ${response.status}`);
    return (await response.json()).access_token;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const params = new URLSearchParams(location.search);
    if (params.has("code") || params.has("error")) {
      try {
        await signIn(await finish(params));
      } catch (err) {
        signOut(`Single sign-on failed: ${err.message}`);
      }
    }
    const response = await fetch("/v1/auth/oidc", { cache: "no-store" }).catch(() => null);
    if (!response || !response.ok) return;
    const cfg = await response.json();
    if (!cfg.enabled) return;
    const button = $("#sso");
    button.hidden = false;
    button.addEventListener("click", () =>
      start(cfg).catch((err) => signOut(`Single sign-on failed: ${err.message}`)));
  });
})();
