// The bureau dashboard: sign in with a token, list alerts, receive new ones live over the
// websocket (replay from the last id seen, then live), triage, and follow a subject's movements.
// Everything from the server is rendered with textContent: alert content is untrusted input.
"use strict";

const NEXT = {
  new: ["acknowledged"],
  acknowledged: ["in_review"],
  in_review: ["confirmed", "false_positive"],
  confirmed: ["action_reported"],
  action_reported: ["closed"],
};
const LABEL = {
  acknowledged: "Acknowledge",
  in_review: "Start review",
  confirmed: "Confirm match",
  false_positive: "False positive",
  action_reported: "Report action",
  closed: "Close",
};
const OPEN = new Set(["new", "acknowledged", "in_review", "confirmed", "action_reported"]);
const TOKEN_KEY = "failsafe.token";

const state = {
  token: null,
  me: null,
  alerts: new Map(), // id -> alert
  lastId: null, // highest id seen: the websocket resume cursor
  oldestCursor: null,
  ws: null,
  retry: 0,
  retryTimer: null,
  selected: null,
  signedOut: true,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else if (k === "onclick") node.addEventListener("click", v);
    else node[k] = v;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { ...options, headers, cache: "no-store" });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
    const err = new Error(message);
    err.status = response.status;
    throw err;
  }
  return body;
}

// -- sign in / out --------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  const me = await api("/v1/principals/me");
  state.me = me;
  state.signedOut = false;
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#who-name").textContent = `${me.name} · ${me.bureau_code || "all bureaus"} · ${me.role}`;
  $("#signin").hidden = true;
  $("#who").hidden = false;
  $("#app").hidden = false;
  await loadAlerts();
  connect();
}

function signOut(message) {
  state.signedOut = true;
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.ws) state.ws.close(1000, "signed out");
  clearTimeout(state.retryTimer);
  state.ws = null;
  state.token = null;
  state.alerts.clear();
  state.lastId = null;
  state.selected = null;
  $("#alerts tbody").replaceChildren();
  $("#detail").replaceChildren(el("p", { class: "placeholder" }, "Select an alert."));
  $("#app").hidden = true;
  $("#who").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message || "";
  $("#token").value = "";
}

// -- alerts list ------------------------------------------------------------------------------

async function loadAlerts(older = false) {
  const params = new URLSearchParams({ limit: "100" });
  if (older && state.oldestCursor) params.set("cursor", state.oldestCursor);
  try {
    const page = await api(`/v1/alerts?${params}`);
    for (const alert of page.items) upsert(alert, false);
    state.oldestCursor = page.next_cursor;
    $("#more").hidden = !page.next_cursor;
    $("#list-error").textContent = "";
  } catch (err) {
    $("#list-error").textContent = `Could not load alerts: ${err.message}`;
  }
  render();
}

function upsert(alert, fresh) {
  const known = state.alerts.get(alert.id);
  state.alerts.set(alert.id, { ...known, ...alert, fresh });
  if (state.lastId === null || alert.id > state.lastId) state.lastId = alert.id;
}

function visible(alert) {
  const minScore = Number($("#min-score").value || 0);
  if (alert.score < minScore) return false;
  return $("#show").value === "all" || OPEN.has(alert.status);
}

function where(event) {
  if (!event) return "";
  const parts = [event.country];
  if (event.crossing && event.crossing.point) parts.push(event.crossing.point);
  if (event.flight) parts.push(`${event.flight.origin || "?"}→${event.flight.destination || "?"}`);
  return parts.filter(Boolean).join(" · ");
}

function time(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

function render() {
  const rows = [...state.alerts.values()].filter(visible).sort((a, b) => b.id - a.id);
  const body = $("#alerts tbody");
  body.replaceChildren(
    ...rows.map((a) => {
      const tr = el(
        "tr",
        { "data-alert-id": String(a.id), class: a.id === state.selected ? "selected" : "" },
        el("td", {}, a.id),
        el("td", {}, time(a.created_at)),
        el("td", { class: `sev-${a.severity}` }, a.severity),
        el("td", { class: "status" }, a.status),
        el("td", {}, Number(a.score).toFixed(2)),
        el("td", {}, (a.entry && a.entry.notice && a.entry.notice.type) || ""),
        el("td", {}, (a.entry && a.entry.subject_name) || ""),
        el("td", {}, where(a.event)),
      );
      if (a.fresh) tr.classList.add("fresh");
      tr.addEventListener("click", () => select(a.id));
      return tr;
    }),
  );
  const open = [...state.alerts.values()].filter((a) => a.status === "new").length;
  $("#counts").textContent = `${rows.length} shown · ${open} new`;
}

// -- live stream --------------------------------------------------------------------------

function setConn(value, label) {
  const node = $("#conn");
  node.dataset.state = value;
  node.textContent = label || value;
}

async function connect() {
  if (state.signedOut) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // Browsers cannot put an Authorization header on a websocket, and a URL's query string ends up
  // in logs: ask for a one-time ticket (30 s, usable once) with the bearer header, and connect
  // with it.
  let ticket;
  try {
    ticket = (await api("/v1/alerts/stream/ticket", { method: "POST" })).ticket;
  } catch (err) {
    if (state.signedOut) return;
    if (err.status === 401 || err.status === 403) {
      signOut(`Signed out: ${err.message}`);
      return;
    }
    retryLater();
    return;
  }
  if (state.signedOut) return;
  const url = `${proto}//${location.host}/v1/alerts/stream?ticket=${encodeURIComponent(ticket)}`;
  const ws = new WebSocket(url);
  state.ws = ws;
  setConn("connecting");
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "subscribe", since: state.lastId }));
    setConn("replaying");
  });
  ws.addEventListener("message", (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(ws, msg);
  });
  ws.addEventListener("close", (ev) => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.signedOut) return;
    if (ev.code === 1008 && ev.reason !== "invalid ticket") {
      // A spent or expired ticket is worth another try (the next ticket request says whether
      // the token itself still holds); anything else of 1008 is about the token or the role.
      signOut(`Signed out: ${ev.reason || "the token was refused"}`);
      return;
    }
    retryLater();
  });
}

function retryLater() {
  // Resume from the last id seen: the server replays what we missed, no gap, no duplicate.
  const delay = Math.min(1000 * 2 ** state.retry, 15000);
  state.retry += 1;
  setConn("offline", `offline — retrying in ${Math.round(delay / 1000)}s`);
  state.retryTimer = setTimeout(connect, delay);
}

function onMessage(ws, msg) {
  switch (msg.type) {
    case "alert":
      upsert(msg.alert, true);
      render();
      if (state.selected === msg.alert.id) renderDetail(msg.alert.id);
      break;
    case "alert_update": {
      const alert = state.alerts.get(msg.id);
      if (alert) {
        alert.status = msg.status;
        alert.updated_at = msg.updated_at;
        alert.fresh = false;
        render();
        if (state.selected === msg.id) select(msg.id);
      }
      break;
    }
    case "subscribed":
      state.retry = 0;
      setConn("live");
      break;
    case "ping":
      ws.send(JSON.stringify({ type: "pong" }));
      break;
    case "error":
      $("#list-error").textContent = `Stream: ${msg.message}`;
      break;
    default:
      break;
  }
}

// -- detail, triage, timeline -------------------------------------------------------------

async function select(id) {
  state.selected = id;
  render();
  const pane = $("#detail");
  try {
    const [detail, timeline] = await Promise.all([
      api(`/v1/alerts/${id}`),
      api(`/v1/alerts/${id}/timeline`),
    ]);
    if (state.selected !== id) return;
    upsert(detail, false);
    state.alerts.get(id).fresh = false;
    render();
    renderDetail(id, detail, timeline);
  } catch (err) {
    pane.replaceChildren(el("p", { class: "error" }, `Could not load alert ${id}: ${err.message}`));
  }
}

function renderDetail(id, detail, timeline) {
  const a = detail || state.alerts.get(id);
  if (!a) return;
  const entry = a.entry || {};
  const event = a.event || {};
  const traveller = event.traveller || {};
  const doc = event.document || {};
  const pane = $("#detail");

  const explanation = el(
    "table",
    { class: "explanation" },
    el("thead", {}, el("tr", {}, el("th", {}, "Feature"), el("th", {}, "Score"),
      el("th", {}, "Traveller"), el("th", {}, "Watchlist"))),
    el("tbody", {}, ...(a.explanation || []).map((f) =>
      el("tr", {},
        el("td", {}, f.feature),
        el("td", {}, el("span", { class: "bar" }), " ",
          f.score === undefined || f.score === null ? "" : Number(f.score).toFixed(2)),
        el("td", {}, f.query === undefined || f.query === null ? "" : String(f.query)),
        el("td", {}, f.candidate === undefined || f.candidate === null ? "" : String(f.candidate)),
      ))),
  );
  for (const [i, f] of (a.explanation || []).entries()) {
    const bar = explanation.querySelectorAll("tbody tr")[i].querySelector(".bar");
    bar.style.width = `${Math.round(Math.max(0, Math.min(1, Number(f.score) || 0)) * 60)}px`;
  }

  const note = el("textarea", { id: "note", placeholder: "Note for this step (optional)" });
  const buttons = (NEXT[a.status] || []).map((to) =>
    el("button", {
      type: "button",
      "data-transition": to,
      onclick: () => triage(a.id, to, note.value, a.status),
    }, LABEL[to] || to));
  const actions = buttons.length
    ? el("div", { class: "actions" }, note, ...buttons)
    : el("p", { class: "placeholder" }, `No further step from ${a.status}.`);

  const transitions = el("ol", {}, ...((a.transitions || []).map((t) =>
    el("li", {}, `${time(t.at)}: ${t.from_status || "—"} → ${t.to_status} by ${t.principal_id || "system"}`
      + (t.bureau_code ? ` (${t.bureau_code})` : "") + (t.note ? ` — ${t.note}` : "")))));

  const points = timeline ? timeline.points : [];
  const movements = el("ol", { class: "timeline", id: "timeline" }, ...points.map((p) =>
    el("li", { class: p.alert_id === a.id ? "current" : "", "data-alert-id": String(p.alert_id) },
      `${time(p.occurred_at)} — ${p.country || "?"}`
      + (p.place ? ` · ${p.place}` : "")
      + (p.direction ? ` · ${p.direction}` : "")
      + (p.route_countries && p.route_countries.length > 1 ? ` · route ${p.route_countries.join(" → ")}` : "")
      + ` · alert #${p.alert_id} (${p.status})`)));

  pane.replaceChildren(
    el("h2", {}, `Alert #${a.id} `, el("span", { class: `sev-${a.severity}` }, a.severity), " · ",
      el("span", { class: "status", id: "detail-status" }, a.status)),
    el("dl", {},
      el("dt", {}, "Subject"), el("dd", {}, entry.subject_name || ""),
      el("dt", {}, "Notice"), el("dd", {}, `${(entry.notice || {}).type || ""} ${(entry.notice || {}).reference || ""}`),
      el("dt", {}, "Owner"), el("dd", {}, entry.owner_bureau || ""),
      el("dt", {}, "Requested"), el("dd", {}, entry.requested_action || ""),
      el("dt", {}, "Score"), el("dd", {}, `${Number(a.score).toFixed(3)} (${a.method})`),
      el("dt", {}, "Event"), el("dd", {}, `${event.kind || ""} · ${time(event.occurred_at)} · ${where(event)}`),
      el("dt", {}, "Traveller"), el("dd", {}, [traveller.given_names, traveller.surname, traveller.full_name]
        .filter(Boolean).join(" ") + (traveller.date_of_birth ? ` · born ${traveller.date_of_birth}` : "")
        + (traveller.nationality ? ` · ${traveller.nationality}` : "")),
      el("dt", {}, "Document"), el("dd", {}, [doc.type, doc.number, doc.issuing_state].filter(Boolean).join(" ")),
      el("dt", {}, "Recipients"), el("dd", {}, (a.recipients || []).join(", ")),
    ),
    el("h3", {}, "Why it matched"), explanation,
    el("h3", {}, "Triage"), actions,
    el("p", { class: "error", id: "triage-error", role: "alert" }),
    el("h3", {}, "History"), transitions,
    el("h3", {}, "Movements of this subject"),
    points.length ? movements : el("p", { class: "placeholder" }, "No sightings visible."),
  );
}

async function triage(id, to, note, from) {
  try {
    const detail = await api(`/v1/alerts/${id}/transitions`, {
      method: "POST",
      body: JSON.stringify({ status: to, note: note || null, expected_status: from }),
    });
    if (to === "acknowledged" && state.ws && state.ws.readyState === WebSocket.OPEN) {
      // The receipt for this principal, besides the triage status.
      state.ws.send(JSON.stringify({ type: "ack", id }));
    }
    upsert(detail, false);
    render();
    await select(id);
  } catch (err) {
    const node = $("#triage-error");
    if (node) node.textContent = err.message;
  }
}

// -- wiring -----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#signin-error").textContent = "";
    try {
      await signIn($("#token").value.trim());
    } catch (err) {
      signOut(err.status === 401 ? "That token was refused." : `Sign-in failed: ${err.message}`);
    }
  });
  $("#sign-out").addEventListener("click", () => signOut(""));
  $("#show").addEventListener("change", render);
  $("#min-score").addEventListener("input", render);
  $("#more").addEventListener("click", () => loadAlerts(true));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved).catch(() => signOut("Please sign in again."));
});
