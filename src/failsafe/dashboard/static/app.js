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
  cursor: null, // the keyboard's row (j/k), opened with Enter
  view: null, // the open alert's timeline and case file, kept for live re-renders
  unseen: new Set(), // ids arrived live and not yet opened: highlighted, counted in the title
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

const SEVERITY_RANK = { critical: 4, high: 3, medium: 2, low: 1 };
const NOTICE_LABEL = { un_special: "UN special" };

// The filters the API knows (status, severity, notice type, score) go to the server, so that
// older matching alerts come too; every filter also applies here, to what arrives live.
function filterParams() {
  const params = new URLSearchParams();
  const show = $("#show").value;
  if (show === "open") for (const s of OPEN) params.append("status", s);
  else if (show !== "all") params.append("status", show);
  const severity = $("#f-severity").value;
  if (severity) params.append("severity", severity);
  const notice = $("#f-notice").value;
  if (notice && notice !== "radiation") params.append("notice_type", notice);
  const minScore = Number($("#min-score").value || 0);
  if (minScore > 0 && minScore <= 1) params.set("min_score", String(minScore));
  return params;
}

async function loadAlerts(older = false) {
  const params = filterParams();
  params.set("limit", "100");
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
  if (fresh) state.unseen.add(alert.id);
  if (state.lastId === null || alert.id > state.lastId) state.lastId = alert.id;
}

function isAlarm(alert) {
  return alert.kind === "radiation_alarm";
}

function subjectOf(alert) {
  if (isAlarm(alert)) {
    const alarm = alert.alarm || {};
    const categories = (alarm.categories || []).join(", ");
    return categories ? `Radiation alarm: ${categories}` : "Radiation alarm";
  }
  return (alert.entry && alert.entry.subject_name) || "";
}

function noticeOf(alert) {
  if (isAlarm(alert)) return "radiation";
  return (alert.entry && alert.entry.notice && alert.entry.notice.type) || "";
}

function visible(alert) {
  const minScore = Number($("#min-score").value || 0);
  if (alert.score < minScore) return false;
  const show = $("#show").value;
  if (show === "open" ? !OPEN.has(alert.status) : show !== "all" && alert.status !== show) {
    return false;
  }
  const severity = $("#f-severity").value;
  if (severity && alert.severity !== severity) return false;
  const notice = $("#f-notice").value;
  if (notice && noticeOf(alert) !== notice) return false;
  const text = $("#f-text").value.trim().toLowerCase();
  if (text && !subjectOf(alert).toLowerCase().includes(text)) return false;
  return true;
}

function eventTime(alert) {
  const t = Date.parse((alert.event && alert.event.occurred_at) || alert.created_at);
  return Number.isNaN(t) ? 0 : t;
}

function compareAlerts(a, b) {
  if ($("#sort").value === "severity") {
    const d = (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0);
    if (d) return d;
  }
  return eventTime(b) - eventTime(a) || b.id - a.id;
}

function where(event) {
  if (!event) return "";
  const parts = [event.country];
  if (event.crossing && event.crossing.point) parts.push(event.crossing.point);
  if (event.crossing && event.crossing.lane) parts.push(`lane ${event.crossing.lane}`);
  if (event.flight) {
    const f = event.flight;
    parts.push([f.origin || "?", ...(f.transit || []), f.destination || "?"].join("→"));
  }
  return parts.filter(Boolean).join(" · ");
}

function time(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

function shortTime(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return d.toLocaleString(undefined, { day: "2-digit", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit" });
}

// Colour is never the only signal: every chip also says what it is in words.
function severityChip(severity) {
  return el("span", { class: `chip sev-${severity}`, "data-severity": severity }, severity);
}

function noticeChip(notice) {
  if (!notice) return "";
  const label = notice === "radiation" ? "radiation alarm" : `${NOTICE_LABEL[notice] || notice} notice`;
  return el("span", { class: `chip notice-${notice}`, "data-notice": notice }, label);
}

function visibleRows() {
  return [...state.alerts.values()].filter(visible).sort(compareAlerts);
}

// What a desktop notification says: no name, no document (see attention.js).
function alertSummary(alert) {
  const notice = noticeOf(alert);
  const what = notice === "radiation" ? "Radiation alarm" : notice ? `${NOTICE_LABEL[notice] || notice} notice` : "Alert";
  const event = alert.event || {};
  const place = (event.crossing && event.crossing.point) || event.country || "";
  return `${what}${place ? ` at ${place}` : ""}`;
}

function render() {
  for (const id of state.unseen) if (!state.alerts.has(id)) state.unseen.delete(id);
  const rows = visibleRows();
  if (state.cursor !== null && !rows.some((a) => a.id === state.cursor)) state.cursor = null;
  const body = $("#alerts tbody");
  body.replaceChildren(
    ...rows.map((a) => {
      const classes = [];
      if (a.id === state.selected) classes.push("selected");
      if (a.id === state.cursor) classes.push("cursor");
      if (state.unseen.has(a.id)) classes.push("unseen");
      const tr = el(
        "tr",
        { "data-alert-id": String(a.id), "data-severity": a.severity, class: classes.join(" ") },
        el("td", {}, a.id),
        el("td", {}, severityChip(a.severity)),
        el("td", { class: "status" }, a.status),
        el("td", {}, Number(a.score).toFixed(2)),
        el("td", {}, noticeChip(noticeOf(a))),
        el("td", { class: "subject" }, subjectOf(a)),
        el("td", { class: "where" }, where(a.event)),
        // When the traveller crossed (what matters), and below it when the alert came in.
        el("td", { class: "when" },
          el("span", { class: "event-time", title: time(a.event && a.event.occurred_at) },
            shortTime(a.event && a.event.occurred_at)),
          el("span", { class: "received", title: `received ${time(a.created_at)}` },
            `rcvd ${shortTime(a.created_at)}`)),
      );
      tr.addEventListener("click", () => {
        state.cursor = a.id;
        select(a.id);
      });
      return tr;
    }),
  );
  const all = [...state.alerts.values()];
  const fresh = all.filter((a) => a.status === "new").length;
  $("#counts").textContent = `${rows.length} shown · ${fresh} new`;
  const open = all.filter((a) => OPEN.has(a.status));
  $("#sev-counts").replaceChildren(...["critical", "high", "medium", "low"].map((s) =>
    el("span", { class: `chip sev-${s}`, "data-severity": s, title: `open ${s} alerts` },
      `${s} ${open.filter((a) => a.severity === s).length}`)));
  setUnseenTitle(state.unseen.size);
}

function reloadWithFilters() {
  state.oldestCursor = null;
  render();
  loadAlerts();
}

// -- keyboard triage: j/k move, Enter opens, a acknowledges ---------------------------------

function moveCursor(step) {
  const rows = visibleRows();
  if (!rows.length) return;
  let i = rows.findIndex((a) => a.id === (state.cursor ?? state.selected));
  i = i < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, i + step));
  state.cursor = rows[i].id;
  render();
  const row = document.querySelector(`#alerts tbody tr[data-alert-id='${state.cursor}']`);
  if (row) row.scrollIntoView({ block: "nearest" });
}

function onKey(ev) {
  if (state.signedOut || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const target = ev.target;
  if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) {
    return;
  }
  // Enter on a focused button or link is that control's own click, not "open".
  if (ev.key === "Enter" && target && ["BUTTON", "A"].includes(target.tagName)) return;
  if (ev.key === "j") moveCursor(1);
  else if (ev.key === "k") moveCursor(-1);
  else if (ev.key === "Enter" && state.cursor !== null) select(state.cursor);
  else if (ev.key === "a") {
    const id = state.cursor ?? state.selected;
    const alert = id === null ? null : state.alerts.get(id);
    if (alert && alert.status === "new") triage(id, "acknowledged", "", "new");
  } else return;
  ev.preventDefault();
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
    case "alert": {
      const known = state.alerts.has(msg.alert.id);
      upsert(msg.alert, !known);
      render();
      if (!known) announce(msg.alert, alertSummary(msg.alert), (id) => select(id));
      if (state.selected === msg.alert.id) renderDetail(msg.alert.id);
      break;
    }
    case "alert_update": {
      const alert = state.alerts.get(msg.id);
      if (alert) {
        // Radiation links may raise the severity and add crossings: the frame carries the
        // whole alert as it is now (docs/alarms.md); older frames only the status.
        if (msg.alert) Object.assign(alert, msg.alert);
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
      askNotificationPermission(false); // once per browser; the button asks again on demand
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
  state.cursor = id;
  // Opened: no longer unseen (the highlight and the title count stay until this).
  state.unseen.delete(id);
  render();
  const pane = $("#detail");
  try {
    const known = state.alerts.get(id);
    const alarm = known ? isAlarm(known) : false;
    const [detail, timeline] = await Promise.all([
      api(`/v1/alerts/${id}`),
      alarm ? Promise.resolve(null) : api(`/v1/alerts/${id}/timeline`),
    ]);
    // The case itself (summary, aliases, original script, documents): a bureau an alert is
    // routed to is entitled to its entry; the page works on without it.
    const entryId = detail.entry && detail.entry.id;
    const entry = entryId && !isAlarm(detail)
      ? await api(`/v1/watchlist/${encodeURIComponent(entryId)}`).catch(() => null)
      : null;
    if (state.selected !== id) return;
    upsert(detail, false);
    state.alerts.get(id).fresh = false;
    state.view = { id, timeline, entry };
    render();
    renderDetail(id, detail, timeline, entry);
  } catch (err) {
    pane.replaceChildren(el("p", { class: "error" }, `Could not load alert ${id}: ${err.message}`));
  }
}

function personName(p) {
  if (!p) return "";
  return p.full_name || [p.given_names, p.surname].filter(Boolean).join(" ");
}

function row(label, value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) {
    return [];
  }
  return [el("dt", {}, label), el("dd", {}, value)];
}

function caseRows(a, entry) {
  const summary = a.entry || {};
  const notice = summary.notice || {};
  const subject = (entry && entry.subject) || {};
  const kase = (entry && entry.case) || {};
  const docs = (subject.documents || []).map((d) =>
    [d.type, d.number, d.issuing_state, d.expiry_date ? `expires ${d.expiry_date}` : null]
      .filter(Boolean).join(" "));
  return [
    ...row("Subject", summary.subject_name || personName(subject)),
    ...row("Original script", subject.name_original),
    ...row("Aliases", (subject.aliases || []).map(personName).filter(Boolean).join("; ")),
    ...row("Born", typeof subject.date_of_birth === "string" ? subject.date_of_birth : null),
    ...row("Nationality", (subject.nationalities || []).join(", ")),
    ...row("Documents", docs.length ? el("ul", { class: "docs" }, ...docs.map((d) => el("li", {}, d))) : null),
    ...row("Notice", el("span", {}, noticeChip(notice.type), " ", notice.reference || "")),
    ...row("Owner", summary.owner_bureau),
    ...row("Case", kase.category),
    ...row("Summary", kase.summary ? el("span", { class: "case-summary" }, kase.summary) : null),
    ...row("Requested", el("strong", { class: "requested" },
      (summary.requested_action || kase.requested_action || "").replaceAll("_", " "))),
    ...(entry ? [] : row("Case file", "not available to this bureau")),
  ];
}

function alarmSection(a) {
  const alarm = a.alarm || {};
  const instrument = alarm.instrument || {};
  const nuclides = (alarm.nuclides || []).map((n) =>
    `${n.name} (${n.category}${n.confidence === undefined || n.confidence === null ? "" : `, ${Math.round(n.confidence * 100)} %`})`);
  const crossings = a.crossings || [];
  const hits = a.hits || [];
  return [
    el("dl", { class: "alarm" },
      ...row("Categories", el("span", { class: "categories" }, (alarm.categories || []).join(", "))),
      ...row("Nuclides", el("span", { class: "nuclides" }, nuclides.join("; ") || "none identified")),
      ...row("Dose rate", alarm.dose_rate_usv_h === undefined || alarm.dose_rate_usv_h === null ? null : `${alarm.dose_rate_usv_h} µSv/h`),
      ...row("Where", [alarm.country, alarm.point, alarm.lane ? `lane ${alarm.lane}` : null].filter(Boolean).join(" · ")),
      ...row("Instrument", [instrument.kind, instrument.id, instrument.model].filter(Boolean).join(" · ")),
      ...row("Alarm time", time(alarm.occurred_at)),
      ...row("Adjudication", a.adjudication ? `${a.adjudication.code} (${time(a.adjudication.at)})` : "none yet"),
    ),
    el("h3", {}, `Linked travellers (${crossings.length})`),
    crossings.length
      ? el("table", { class: "crossings" },
        el("thead", {}, el("tr", {}, ...["Time", "Lane · relation", "Direction", "Traveller",
          "Document", "Vehicle"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...crossings.map((c) => el("tr", {},
          el("td", {}, shortTime(c.occurred_at)),
          el("td", {}, [c.lane, (c.relation || "").replaceAll("_", " ")].filter(Boolean).join(" · ")
            + (c.confidence === undefined || c.confidence === null ? "" : ` (${Number(c.confidence).toFixed(2)})`)),
          el("td", {}, c.direction || ""), el("td", {}, personName(c.traveller)),
          el("td", {}, [((c.document || {}).type), (c.document || {}).number, (c.document || {}).issuing_state].filter(Boolean).join(" ")),
          el("td", {}, [((c.vehicle || {}).plate), (c.vehicle || {}).container].filter(Boolean).join(" · "))))))
      : el("p", { class: "placeholder" }, "No crossing linked yet."),
    el("h3", {}, `Watchlist hits (${hits.length})`),
    hits.length
      ? el("ul", { class: "hits" }, ...hits.map((h) => el("li", {},
        el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); select(h.alert_id); } }, `alert #${h.alert_id}`),
        ` · ${(h.entry || {}).subject_name || ""} · score ${Number(h.score).toFixed(2)}`
        + (h.case_category ? ` · ${h.case_category}` : ""))))
      : el("p", { class: "placeholder" }, "No watchlist hit among them."),
    adjudicationForm(a),
  ].filter(Boolean);
}

const ADJUDICATION_CODES = ["contraband_found", "real_other", "medical_isotope", "norm",
  "declared_shipment", "inspection_negative", "background_only", "false_other",
  "test_or_maintenance", "tamper_or_fault", "other"];

// The adjudication of a radiation alarm (docs/alarms.md): admins, and the bureau of the
// point's country. The server decides; the form only hides where it would be refused.
function adjudicationForm(a) {
  const alarm = a.alarm || {};
  const me = state.me || {};
  if (!alarm.alarm_id || !(me.role === "admin" || (me.role === "bureau" && me.bureau_code === alarm.country))) {
    return null;
  }
  const code = el("select", { id: "adj-code" },
    ...ADJUDICATION_CODES.map((c) => el("option", { value: c }, c.replaceAll("_", " "))));
  const secondary = el("select", { id: "adj-secondary" },
    ...["none", "requested", "completed"].map((c) => el("option", { value: c }, `secondary: ${c}`)));
  const isotopes = el("input", { id: "adj-isotopes", placeholder: "isotopes, e.g. Cs-137, K-40",
    spellcheck: false });
  const note = el("textarea", { id: "adj-note", placeholder: "Note (optional)" });
  const error = el("p", { class: "error", id: "adj-error", role: "alert" });
  const submit = el("button", { type: "button", id: "adj-submit", onclick: async () => {
    error.textContent = "";
    try {
      await api(`/v1/alarms/${encodeURIComponent(alarm.alarm_id)}/adjudications`, {
        method: "POST",
        body: JSON.stringify({
          code: code.value,
          secondary: secondary.value,
          isotopes: isotopes.value.split(",").map((x) => x.trim()).filter(Boolean),
          note: note.value.trim() || null,
        }),
      });
      await select(a.id);
    } catch (err) {
      error.textContent = err.message;
    }
  } }, "Record adjudication");
  return el("div", { class: "adjudication no-print" }, el("h3", {}, "Adjudication"),
    el("div", { class: "actions" }, code, secondary, isotopes, note, submit), error);
}

function stopsText(p) {
  const stops = p.stops || [];
  if (!stops.length) return [p.country, p.place].filter(Boolean).join(" · ") || "?";
  return stops.map((s) => s.label + (typeof s.lat === "number" ? "" : " (not on map)")).join(" → ");
}

function renderDetail(id, detail, timeline, entry) {
  const a = detail || state.alerts.get(id);
  if (!a) return;
  const view = state.view && state.view.id === id ? state.view : {};
  if (timeline === undefined) timeline = view.timeline;
  if (entry === undefined) entry = view.entry;
  const event = a.event || {};
  const traveller = event.traveller || {};
  const doc = event.document || {};
  const pane = $("#detail");
  const alarm = isAlarm(a);

  const explanation = el(
    "table",
    { class: "explanation" },
    el("thead", {}, el("tr", {}, el("th", {}, "Feature"), el("th", {}, "Score"),
      el("th", {}, "Traveller"), el("th", {}, "Watchlist"))),
    el("tbody", {}, ...(a.explanation || []).flatMap((f) => [
      el("tr", { class: "feature" },
        el("td", {}, f.feature),
        el("td", {}, el("span", { class: "bar" }), " ",
          f.score === undefined || f.score === null ? "" : Number(f.score).toFixed(2)),
        el("td", {}, f.query === undefined || f.query === null ? "" : String(f.query)),
        el("td", {}, f.candidate === undefined || f.candidate === null ? "" : String(f.candidate)),
      ),
      // How the two sides compare, in words (the date of birth: "year differs by 7 (listed
      // ..., traveller ...)"): what makes a lower score or severity readable at a glance.
      ...(f.detail ? [el("tr", { class: "feature-detail" },
        el("td", { colSpan: 4 }, f.agreement ? `${f.agreement}: ${f.detail}` : String(f.detail)))]
        : []),
    ])),
  );
  for (const [i, f] of (a.explanation || []).entries()) {
    const bar = explanation.querySelectorAll("tbody tr.feature")[i].querySelector(".bar");
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

  // Officers by name (the API resolves principal ids); the system when nobody acted.
  const transitions = el("ol", { class: "history" }, ...((a.transitions || []).map((t) =>
    el("li", {}, `${time(t.at)}: ${t.from_status || "—"} → ${t.to_status} by `,
      el("span", { class: "officer" }, t.principal_name || (t.principal_id ? t.principal_id : "the system")),
      (t.bureau_code ? ` (${t.bureau_code})` : ""),
      t.note ? el("span", { class: "note" }, ` — ${t.note}`) : null))));

  const points = timeline ? timeline.points : [];
  const movements = el("ol", { class: "timeline", id: "timeline" }, ...points.map((p) =>
    el("li", { class: p.alert_id === a.id ? "current" : "", "data-alert-id": String(p.alert_id) },
      el("time", {}, time(p.occurred_at)), " — ",
      p.kind === "travel_booking" ? "booking: " : `${p.direction || "crossing"}: `,
      stopsText(p),
      ` · alert #${p.alert_id} (${p.status})`)));
  const mapBox = el("div", { class: "map-box", id: "map-box" });

  const received = el("p", { class: "times" },
    "Event ", el("strong", {}, time(event.occurred_at)), " · received ", time(a.created_at));

  pane.replaceChildren(
    el("div", { class: "detail-head" },
      el("h2", {}, `Alert #${a.id} `, severityChip(a.severity), " ",
        el("span", { class: "status", id: "detail-status" }, a.status)),
      el("button", { type: "button", id: "print", class: "no-print", onclick: () => window.print() },
        "Print summary")),
    received,
    ...(alarm ? alarmSection(a) : [el("dl", { class: "case" }, ...caseRows(a, entry))]),
    el("h3", {}, "Sighting"),
    el("dl", {},
      ...row("Event", `${(event.kind || "").replaceAll("_", " ")} · ${where(event)}`),
      ...(alarm ? [] : row("Traveller", [personName(traveller), traveller.name_original ? `(${traveller.name_original})` : null]
        .filter(Boolean).join(" ") + (traveller.date_of_birth ? ` · born ${traveller.date_of_birth}` : "")
        + (traveller.nationality ? ` · ${traveller.nationality}` : ""))),
      ...(alarm ? [] : row("Document", [doc.type, doc.number, doc.issuing_state].filter(Boolean).join(" "))),
      ...row("Score", `${Number(a.score).toFixed(3)} (${a.method})`),
      ...row("Recipients", (a.recipients || []).join(", ")),
    ),
    ...(alarm ? [] : [el("h3", {}, "Why it matched"), explanation]),
    el("h3", { class: "no-print" }, "Triage"), el("div", { class: "no-print" }, actions),
    el("p", { class: "error", id: "triage-error", role: "alert" }),
    el("h3", {}, "History"),
    (a.transitions || []).length ? transitions : el("p", { class: "placeholder" }, "No step taken yet."),
    ...(alarm ? [] : [
      el("h3", {}, "Movements of this subject"),
      points.length
        ? el("div", { class: "movements" }, mapBox, movements)
        : el("p", { class: "placeholder" }, "No sightings visible."),
    ]),
  );
  if (points.length) {
    drawMovements(points, a.id).then((svg) => {
      if (state.selected === id && mapBox.isConnected) mapBox.replaceChildren(svg);
    });
  }
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
  for (const sel of ["#show", "#f-severity", "#f-notice", "#min-score"]) {
    $(sel).addEventListener("change", reloadWithFilters);
  }
  $("#min-score").addEventListener("input", render);
  $("#f-text").addEventListener("input", render);
  $("#sort").addEventListener("change", render);
  document.addEventListener("keydown", onKey);
  $("#mute").addEventListener("click", toggleMute);
  $("#notify").addEventListener("click", () => askNotificationPermission(true));
  renderMute();
  renderNotifyButton();
  $("#more").addEventListener("click", () => loadAlerts(true));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved).catch(() => signOut("Please sign in again."));
});
