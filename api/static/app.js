// SaltWatch dashboard: static, no build step, no CDN. Vietnamese first, English second.
"use strict";

// the words of each language, from the catalogue the alert messages and the bulletins share
// (GET /api/v1/text/{lang}: config/text/<lang>.toml); loaded once, before the first screen
const TEXT = { vi: {}, en: {} };
async function loadText() {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const [vi, en] = await Promise.all(["vi", "en"].map(async (lang) => {
        const response = await fetch(`/api/v1/text/${lang}`);
        if (!response.ok) throw new Error(response.statusText);
        return response.json();
      }));
      Object.assign(TEXT, { vi, en });
      return;
    } catch (error) { await new Promise((done) => setTimeout(done, 1000 * (attempt + 1))); }
  }
}
const fill = (text, values) => Object.entries(values).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, v), text);
// the token lives for this tab only, unless its holder asked to be remembered on this device
const saved = () => sessionStorage.getItem("sw-token") || localStorage.getItem("sw-token");
function keepToken(token, remember) {
  sessionStorage.setItem("sw-token", token);
  if (remember) localStorage.setItem("sw-token", token); else localStorage.removeItem("sw-token");
}
const state = { structures: [], openings: [], lang: localStorage.getItem("sw-lang") || "vi", token: saved(), zone: localStorage.getItem("sw-zone") || "",
                rules: null, stations: [], zones: [], alerts: [], wells: [], taps: [], windows: [], selected: null };
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] || key;
const t_in = (section, key) => (TEXT[state.lang][section] || {})[key] || key;  // a word of one section
const locale = () => (state.lang === "vi" ? "vi-VN" : "en-GB");
const fmtTime = (iso) => iso ? new Intl.DateTimeFormat(locale(),
  { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short" }).format(new Date(iso)) : "–";
// numbers as people write them: 8,9 in Vietnamese, 8.9 in English
const num = (v, digits) => (v === null || v === undefined ? "–" : new Intl.NumberFormat(locale(),
  { minimumFractionDigits: digits ?? (Math.abs(v) < 10 ? 2 : 1), maximumFractionDigits: digits ?? (Math.abs(v) < 10 ? 2 : 1) }).format(v));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Whether the page is current: only a refresh whose every request succeeded says yes; one
// failure (the network, or any 5xx such as a store outage) says no at once, shows when the
// figures were last fetched, and greys every value on the page (body.stale) until a full refresh
let lastGood = null;
function connected(ok) {
  if (ok) lastGood = serverNow().toISOString();
  document.body.classList.toggle("stale", !ok);
  $("offline").hidden = ok;
  $("offline").textContent = lastGood ? fill(t("offlineSince"), { time: fmtTime(lastGood) }) : t("offline");
}

// a token when the page has one; else the browser's session cookie (signed in with a code) goes alone
const bearer = () => (state.token ? { Authorization: `Bearer ${state.token}` } : {});

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options,
      headers: { ...(options.headers || {}), ...bearer(), "Content-Type": "application/json" } });
  } catch (error) { connected(false); throw error; }
  if (response.status >= 500) connected(false);
  if (response.status === 401) { askToken(true); throw new Error("unauthorized"); }
  if (!response.ok) {
    const detail = await response.json().then((b) => b.detail).catch(() => null);
    throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status, detail });
  }
  return response.status === 204 ? null : response.json();
}

function askToken(failed) {
  $("login-error").hidden = !failed; $("login-error").textContent = t("badtoken");
  if (!$("login").open) $("login").showModal();
}

function translate() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("lang").textContent = t("other");
}

// ---- zones: the engineer's own commune or district, remembered on this device
// a district abolished in the 2025 reform says so beside the communes that replaced it
const zoneName = (z) => (state.lang === "en" && z.name_en ? z.name_en : z.legacy && z.kind === "district" ? `${z.name} (huyện cũ)` : z.name);
function zoneOrder() {  // the tree, depth first, with each zone's depth
  const byParent = {};
  for (const z of state.zones) (byParent[z.parent || ""] ||= []).push(z);
  const out = [];
  const walk = (parent, depth) => { for (const z of byParent[parent] || []) { out.push([z, depth]); walk(z.id, depth + 1); } };
  walk("", 0);
  return out;
}
function covered(zone) {  // the zone and everything below it ("": all)
  if (!zone) return null;
  const inside = new Set([zone]);
  for (const [z] of zoneOrder()) if (z.parent && inside.has(z.parent)) inside.add(z.id);
  return inside;
}
const inZone = (id) => { const set = covered(state.zone); return !set || set.has(id); };
function zoneOptions(select, chosen, first) {
  select.replaceChildren(el("option", { value: "" }, first),
    ...zoneOrder().filter(([z]) => z.parent).map(([z, depth]) => el("option", { value: z.id }, `${"· ".repeat(Math.max(0, depth - 1))}${zoneName(z)}`)));
  select.value = chosen;
}
function renderZonePicker() {
  if (state.zone && !state.zones.some((z) => z.id === state.zone)) state.zone = "";
  zoneOptions($("zone"), state.zone, t("allzones"));
}

function levelOf(station, value) {  // the levels in force for this station, as the API says
  const levels = station.levels;
  if (!levels || value === undefined || value === null) return "ok";
  return value >= levels.critical ? "critical" : value >= levels.warning ? "warning" : "ok";
}

function renderZones() {
  const byParent = {};
  for (const z of state.zones) (byParent[z.parent || ""] ||= []).push(z);
  const branch = (parent) => {
    const list = el("ul");
    for (const z of byParent[parent] || []) {
      const sev = z.worst_severity || "none";
      list.append(el("li", {}, el("span", { class: `badge sev-${sev}`, title: sev }, z.active_alerts), " ",
        zoneName(z), branch(z.id)));
    }
    return list;
  };
  $("zones").replaceChildren(...branch("").children);
}

// ---- open alerts: the most severe first, then the oldest; alerts that share a cause are one row
const RANK = { critical: 0, warning: 1, info: 2 };
const bySeverityThenAge = (a, b) => RANK[a.severity] - RANK[b.severity] || a.started_at.localeCompare(b.started_at);
const message = (a) => (state.lang === "vi" ? a.message_vi : a.message_en);
const stateText = (a) => (a.state === "acknowledged" ? `${t("acked")}: ${a.acked_by}` : t(a.state));

// a safe intake window is news to plan with, not a fault to act on: it has a panel of its own
const isNotice = (a) => a.kind === "intake_window";

function alertGroups() {
  const open = state.alerts.filter((a) => (a.state === "firing" || a.state === "acknowledged") && !isNotice(a));
  const groups = new Map();
  for (const a of open) { const key = a.group || a.id; if (!groups.has(key)) groups.set(key, []); groups.get(key).push(a); }
  // what still needs someone first; a group everyone has acknowledged goes below the open ones
  const acked = (items) => (items.every((a) => a.state === "acknowledged") ? 1 : 0);
  return [...groups.values()].map((items) => items.sort(bySeverityThenAge))
    .sort((g, h) => acked(g) - acked(h) || bySeverityThenAge(g[0], h[0]));
}

function groupText(items) {
  const head = items[0];
  if (items.length > 1 && head.rule === "nodata") {
    const names = items.map((a) => deviceName(a.device)).join(", ");
    return `${fill(t("nodatagroup"), { n: items.length, zone: head.zone_name })}: ${names}`;
  }
  return message(head);
}
const deviceName = (id) => ([...state.stations, ...state.wells, ...state.taps].find((d) => d.id === id) || { name: id }).name;

function ackButton(items, label) {
  const firing = items.filter((a) => a.state === "firing");
  if (!firing.length) return null;
  return el("button", { type: "button", class: "ack", onclick: () => acknowledge(firing) }, label);
}

const FIRST_ROWS = 5;  // on a phone, the stations' values follow the first rows, not three screens on

function renderAlerts() {
  const all = alertGroups();
  $("alert-count").textContent = all.length;
  if (!all.length) { $("alerts").replaceChildren(el("li", {}, t("none"))); return; }
  const shortened = !wide.matches && !state.allAlerts && all.length > FIRST_ROWS + 1;
  const groups = shortened ? all.slice(0, FIRST_ROWS) : all;
  const more = shortened ? [el("li", { class: "more" }, el("button", { type: "button", class: "link", onclick: () => { state.allAlerts = true; renderAlerts(); } },
    fill(t("moreAlerts"), { n: all.length - FIRST_ROWS })))] : [];
  $("alerts").replaceChildren(...groups.map((items) => {
    const head = items[0], acked = items.every((a) => a.state === "acknowledged");
    const row = el("li", { class: `${head.severity} ${acked ? "acknowledged" : head.state}`, "data-id": head.id, "data-group": head.group || head.id });
    const firing = items.filter((a) => a.state === "firing").length;
    // a notice (an intake window) is news, not a fault: nobody needs to acknowledge it
    const all = head.severity === "info" ? null : ackButton(items, items.length > 1 && firing > 1 ? fill(t("ackall"), { n: firing }) : t("ack"));
    if (all) row.append(all);  // floats right: the text flows beside it
    row.append(el("div", { class: "text" }, el("span", { class: "sev" }, t_in("severity", head.severity)), " ", groupText(items),
      // a salinity message says since when already
      ...(head.rule.startsWith("salinity-") ? [] : [el("span", { class: "when" }, fmtTime(head.started_at))])));
    if (items.some((a) => a.state === "acknowledged")) {
      const who = [...new Set(items.filter((a) => a.acked_by).map((a) => a.acked_by))].join(", ");
      row.append(el("div", { class: "meta" }, `${t("acked")}: ${who}`));
    }
    if (items.length > 1) {
      row.append(el("details", {}, el("summary", {}, fill(t("members"), { n: items.length })),
        el("ul", {}, ...items.map((a) => el("li", { class: a.state, "data-id": a.id },
          `${t_in("severity", a.severity)}: ${message(a)}`, el("div", { class: "meta" }, `${fmtTime(a.started_at)} · ${stateText(a)}`),
          ...[ackButton([a], t("ack"))].filter(Boolean))))));
    }
    return row;
  }), ...more);
}

// ---- sluices: each gate as last reported (with its time and by whom), the water outside now
// (with its time) against the structure's limit, and one tap to record "opened" / "closed"
function renderStructures() {
  const shown = state.structures.filter((s) => [s.zone, ...s.also_zones].some(inZone));
  $("structures-panel").hidden = !shown.length;
  $("structures").replaceChildren(...shown.map((s) => {
    const g = s.gate, state_ = g ? `g_${g.state}` : "g_unknown";
    const who = g ? (g.source === "operator" ? g.by : t("g_sensor")) : "";
    const guard = s.guard.ppt === null
      ? fill(t("g_noguard"), { limit: `${num(s.limit_ppt)} ‰` })
      : fill(t("g_guard"), { ppt: `${num(s.guard.ppt)} ‰`, time: fmtTime(s.guard.at), limit: `${num(s.limit_ppt)} ‰` });
    const operate = (to) => el("button", { type: "button", class: "gate-op", "data-state": to, onclick: () => recordGate(s, to) },
      t(to === "open" ? "g_didopen" : "g_didclose"));
    return el("li", { class: s.open_to_salt ? "structure salty" : "structure", "data-id": s.id },
      el("span", { class: "name" }, s.name),
      el("span", { class: `gate ${g ? g.state : "unknown"}` }, t(state_)),
      el("span", { class: "when" }, g ? `${fmtTime(g.at)} · ${who}` : ""),
      el("div", { class: "meta" }, guard),
      ...(s.open_to_salt ? [el("div", { class: "warn" }, t("g_salty"))] : []),
      ...(s.disagree ? [el("div", { class: "warn" }, t("g_disagree"))] : []),
      ...state.openings.filter((o) => o.structure === s.id).slice(0, 4).map((o) =>
        el("div", { class: o.unsafe ? "plan warn" : "plan" }, `${t("g_plan")}: ${fmtTime(o.start)} – ${fmtTime(o.end)} · `,
          o.source === "proposed" ? t("g_proposed") : o.by,
          ...o.waters.filter((w) => w.water === "high").slice(0, 2).map((w) => ` · ${t("g_high")} ${fmtTime(w.at)}`),
          ...(o.unsafe ? [` · ${fill(t("g_unsafe"), { ppt: `${num(o.forecast_peak_ppt)} ‰` })}`] : []))),
      el("div", { class: "ops" }, operate("open"), operate("closed")));
  }));
}

async function recordGate(structure, to) {
  const note = prompt(t("g_note"), "");
  if (note === null) return;
  const body = JSON.stringify(note.trim() ? { state: to, note: note.trim() } : { state: to });
  try {
    const updated = await api(`/api/v1/structures/${structure.id}/operations`, { method: "POST", body });
    state.structures = state.structures.map((s) => (s.id === updated.id ? updated : s));
    renderStructures();
  } catch (error) { if (error.status === 403) window.alert(t("g_noperm")); }
}

// a handheld reading at the chosen station: the meter's value and unit, when (default now), a note
async function enterReading() {
  const station = state.selected, form = $("handheld"), said = $("hh-result");
  if (!station) return;
  const [quantity, unit] = form.elements.unit.value.split("|");
  const body = { value: Number(String(form.elements.value.value).replace(",", ".")), quantity, unit };
  if (form.elements.at.value) body.at = new Date(form.elements.at.value).toISOString();
  if (form.elements.note.value.trim()) body.note = form.elements.note.value.trim();
  try {
    const saved = await api(`/api/v1/stations/${station.id}/readings`, { method: "POST", body: JSON.stringify(body) });
    said.textContent = fill(t("hh_saved"), { v: `${num(saved.values.salinity_ppt)} ‰`, time: fmtTime(saved.ts) });
    form.elements.value.value = ""; form.elements.note.value = "";
    await chart(station);
  } catch (error) {
    said.textContent = error.status === 403 ? t("hh_noperm") : fill(t("hh_refused"), { why: error.detail || error.message });
  }
}

function renderIntakes() {
  const firing = state.alerts.filter((a) => a.state === "firing" && isNotice(a));
  // a window opening soon says so in place of its first notice: one line per window
  const soon = new Set(firing.filter((a) => a.rule === "intake-window-soon").map((a) => `${a.device} ${a.started_at}`));
  const notices = firing.filter((a) => a.rule !== "intake-window" || !soon.has(`${a.device} ${a.started_at}`))
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  $("intake-panel").hidden = !notices.length;
  $("intakes").replaceChildren(...notices.map((a) => el("li", { "data-id": a.id }, message(a))));
}

async function acknowledge(alerts) {
  // who acknowledges is the token's name (the server records it); a note is optional
  const note = prompt(t("by"), "");
  if (note === null) return;
  const body = JSON.stringify(note.trim() ? { note: note.trim() } : {});
  for (const alert of alerts) {
    try {
      const updated = await api(`/api/v1/alerts/${alert.id}/ack`, { method: "POST", body });
      state.alerts = state.alerts.map((a) => (a.id === updated.id ? updated : a));
    } catch (error) { if (error.status === 403) { window.alert(t("noack")); break; } }
  }
  renderAlerts();
}

function renderStations() {
  const shown = state.stations.filter((s) => inZone(s.zone));
  $("stations").replaceChildren(...shown.map((s) => {
    const value = s.latest ? s.latest.values.salinity_ppt : undefined;
    // a value QC rejected is not the station's salinity: shown as such, never coloured as a level
    const rejected = s.latest && s.latest.qc & BAD_QC;
    return el("li", { class: state.selected && state.selected.id === s.id ? "selected" : "", onclick: () => chart(s), role: "button", tabindex: "0" },
      el("span", { class: "name" }, s.name),
      el("span", { class: rejected ? "value rejected" : `value val-${levelOf(s, value)}` },
        value === undefined ? "–" : rejected ? `${num(value)} ‰ (${t("rejected")})` : `${num(value)} ‰`),
      el("span", { class: "when" }, fmtTime(s.latest && s.latest.ts)));
  }));
}

function renderMap() {
  const pts = state.stations.filter((s) => s.lat !== null && s.lon !== null && inZone(s.zone));
  if (!pts.length) return;
  const lats = pts.map((s) => s.lat), lons = pts.map((s) => s.lon);
  const [x0, x1, y0, y1] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  // drawn at the size it is shown, so that its labels are 12 px on a phone as on a desktop
  const map = $("map"), W = Math.max(300, Math.round(map.getBoundingClientRect().width) || 600), H = Math.round(W * 0.6);
  map.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const x = (lon) => 14 + ((lon - x0) / (x1 - x0 || 1)) * (W - 130), y = (lat) => H - 16 - ((lat - y0) / (y1 - y0 || 1)) * (H - 36);
  map.replaceChildren();
  for (const s of pts) {
    const value = s.latest && !(s.latest.qc & BAD_QC) ? s.latest.values.salinity_ppt : undefined;  // grey: nothing good to show
    const colour = { ok: "#2e7d32", warning: "#ef6c00", critical: "#c62828" }[levelOf(s, value)];
    const dot = svg("circle", { cx: x(s.lon), cy: y(s.lat), r: 7, fill: value === undefined ? "#999" : colour });
    dot.append(svg("title", {}, `${s.name}: ${value === undefined ? "–" : num(value)} ‰`));
    dot.addEventListener("click", () => chart(s));
    map.append(dot, svg("text", { x: x(s.lon) + 9, y: y(s.lat) + 4 }, s.name));
  }
}

const BAD_QC = 1 | 2 | 4 | 8;  // RANGE, SPIKE, FLATLINE, RATE: a value QC discounts (core/qc.py)
const DAY_MS = 864e5, VN_OFFSET_MS = 7 * 36e5;  // Vietnam: UTC+7, no daylight saving

async function chart(station) {
  state.selected = station;
  renderStations();
  $("chart-title").textContent = `— ${station.name}`;
  $("handheld").hidden = false;
  const now = serverNow(), start = new Date(now - 7 * DAY_MS), end = new Date(+now + 2 * DAY_MS);
  // up to a minute past our estimate of the server's clock: a reading stamped "now" by the server
  // (a handheld one just saved) must not fall past the range's end by the estimate's error
  const upto = new Date(+now + 60 * 1000);
  const range = `start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(upto.toISOString())}`;
  const [data, forecast] = await Promise.all([
    // the readings themselves, with their QC flags; a station reporting very often: hourly buckets
    api(`/api/v1/stations/${station.id}/readings?${range}`).catch(() => api(`/api/v1/stations/${station.id}/readings?${range}&every=1h`)),
    api(`/api/v1/forecast/${station.id}`).catch(() => null)]);  // 409: too few readings yet
  const points = forecast ? forecast.points : [], box = $("chart");
  const rows = data.readings ? data.readings.filter((r) => typeof r.values.salinity_ppt === "number") : null;
  // what QC passed draws the line and sets the scale; what it flagged is marked apart, never scaling the chart
  // a reading entered by hand is a point of its own (another place, another meter), not part of the station's line
  const good = rows ? rows.filter((r) => !(r.qc & BAD_QC) && r.values.source !== "manual").map((r) => ({ ts: r.ts, v: r.values.salinity_ppt }))
    : (data.aggregates || []).map((b) => ({ ts: b.ts, v: b.mean, lo: b.min, hi: b.max }));
  const flagged = rows ? rows.filter((r) => r.qc & BAD_QC).map((r) => ({ ts: r.ts, v: r.values.salinity_ppt })) : [];
  // readings entered by hand (a meter at the sluice): on the line, and marked with who entered them
  const manual = rows ? rows.filter((r) => r.values.source === "manual").map((r) => ({ ts: r.ts, v: r.values.salinity_ppt, by: r.values.by || "" })) : [];
  const W = Math.max(300, Math.round(box.getBoundingClientRect().width) || 640), H = 260, left = 40, right = W - 8, bottom = 222, topY = 16;
  box.setAttribute("viewBox", `0 0 ${W} ${H}`);
  box.replaceChildren();
  const levels = station.levels;
  const top = Math.max(1, ...good.map((g) => g.hi ?? g.v), ...manual.map((m) => m.v), ...points.map((p) => Math.min(p.upper, 40)), levels ? levels.critical * 1.1 : 0);
  const x = (t) => left + ((new Date(t) - start) / (end - start)) * (right - left);
  const y = (v) => bottom - (Math.min(Math.max(v, 0), top) / top) * (bottom - topY);
  box.append(svg("line", { x1: left, y1: bottom, x2: right, y2: bottom, stroke: "#999" }),
    svg("text", { x: 2, y: topY + 4, class: "axis" }, num(top, 1)), svg("text", { x: 2, y: bottom, class: "axis" }, "0"));
  // the time axis: each day's midnight in Vietnam, labelled dd/mm
  const parts = new Intl.DateTimeFormat("en-GB", { day: "2-digit", month: "2-digit", timeZone: "Asia/Ho_Chi_Minh" });
  const dayLabel = { format: (d) => parts.formatToParts(d).filter((p) => p.type !== "literal").map((p) => p.value).join("/") };  // 12/03, as both languages write it
  const step = W < 500 ? 2 : 1;
  for (let d = Math.ceil((+start + VN_OFFSET_MS) / DAY_MS), i = 0; d * DAY_MS - VN_OFFSET_MS < +end; d++, i++) {
    const at = d * DAY_MS - VN_OFFSET_MS;
    box.append(svg("line", { x1: x(at), x2: x(at), y1: bottom, y2: bottom + 4, stroke: "#999" }));
    if (i % step === 0) box.append(svg("text", { x: x(at), y: bottom + 17, class: "axis tick", "text-anchor": "middle" }, dayLabel.format(new Date(at))));
  }
  box.append(svg("line", { x1: x(now), x2: x(now), y1: topY, y2: bottom, stroke: "#999", "stroke-dasharray": "2 2" }),
    // the forecast's label after the line, or before it where the chart ends too soon
    svg("text", x(now) + 100 > right ? { x: x(now) - 3, y: topY + 12, class: "axis", "text-anchor": "end" }
      : { x: x(now) + 3, y: topY + 12, class: "axis" }, t("forecast")));
  for (const w of forecast && forecast.reliable ? forecast.windows : []) {  // safe intake windows
    box.append(svg("rect", { x: x(w.start), y: topY, width: Math.max(1, x(w.end) - x(w.start)), height: bottom - topY, fill: "#2e7d3222", class: "window" }));
  }
  if (levels) for (const [name, colour] of [["warning", "#ef6c00"], ["critical", "#c62828"]]) {
    box.append(svg("line", { x1: left, x2: right, y1: y(levels[name]), y2: y(levels[name]), stroke: colour, "stroke-dasharray": "4 3" }),
      svg("text", { x: left + 2, y: y(levels[name]) - 3, fill: colour, class: "axis" }, `${num(levels[name], levels[name] < 1 ? 2 : 0)} ‰`));
  }
  const line = (list, key) => list.map((b, i) => `${i ? "L" : "M"}${x(b.ts).toFixed(1)},${y(b[key]).toFixed(1)}`).join("");
  const area = (list, hi, lo) => list.map((b) => `${x(b.ts).toFixed(1)},${y(b[hi]).toFixed(1)}`)
    .concat(list.slice().reverse().map((b) => `${x(b.ts).toFixed(1)},${y(b[lo]).toFixed(1)}`)).join(" ");
  if (good.length && good[0].hi !== undefined) box.append(svg("polygon", { points: area(good, "hi", "lo"), fill: "#0b4f6c22" }));
  if (good.length) box.append(svg("path", { d: line(good, "v"), stroke: "#0b4f6c", fill: "none", class: "measured" }));
  for (const f of flagged) {  // a mark beside the line, at the top edge when beyond the scale
    const mark = svg("text", { x: x(f.ts), y: y(f.v) + 4, class: "flagged", "text-anchor": "middle", fill: "#8d6e63" }, "×");
    mark.append(svg("title", {}, `${t("lg_flagged")}: ${num(f.v)} ‰, ${fmtTime(f.ts)}`));
    box.append(mark);
  }
  for (const m of manual) {
    const mark = svg("rect", { x: x(m.ts) - 4, y: y(m.v) - 4, width: 8, height: 8, class: "manual", fill: "#f9a825", stroke: "#5d4037" });
    mark.append(svg("title", {}, `${fill(t("hh_by"), { by: m.by })}: ${num(m.v)} ‰, ${fmtTime(m.ts)}`));
    box.append(mark);
  }
  const unearned = forecast && !forecast.reliable;
  if (points.length) {
    const colour = unearned ? "#888888" : "#6a1b9a";  // an unearned forecast is drawn grey
    box.append(svg("polygon", { points: area(points, "upper", "lower"), fill: `${colour}22`, class: "band" }),
      svg("path", { d: line(points, "mean"), stroke: colour, fill: "none", "stroke-dasharray": "3 2" }));
  }
  const legend = [["measured", "lg_measured"], ...(flagged.length ? [["flagged", "lg_flagged"]] : []),
    ...(manual.length ? [["manual", "lg_manual"]] : []),
    ...(points.length ? [[unearned ? "band grey" : "band", "lg_band"]] : []),
    ...(forecast && forecast.reliable && forecast.windows.length ? [["window", "lg_window"]] : []),
    ...(levels ? [["levels", "lg_levels"]] : [])];
  $("chart-legend").replaceChildren(...legend.map(([kind, key]) => el("li", { class: kind }, t(key))));
  $("chart-skill").replaceChildren(...skillText(forecast));
  $("chart-skill").className = unearned ? "skill unreliable" : "skill";
}

function skillText(forecast) {  // the forecast's live score beside its band (docs/interface.md skill)
  if (!forecast) return [];
  const s = forecast.skill, out = [];
  const num = (v, d = 2) => v === null || v === undefined ? "–"
    : new Intl.NumberFormat(state.lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: d, minimumFractionDigits: d, signDisplay: "auto" }).format(v);
  if (!forecast.reliable) out.push(`${t("unreliable")}. `);
  if (!s || !s.forecasts) out.push(`${t("forecast")}: ${t("noscore")}.`);
  else out.push(t("skill").replace("{mae}", num(s.mae_24h)).replace("{pmae}", num(s.mae_24h_persistence))
    .replace("{skill}", (s.skill > 0 ? "+" : "") + num(s.skill)).replace("{n}", s.forecasts).replace("{days}", num(s.days, 0)) + ".");
  if (forecast.method === "persistence") out.push(` ${t("persistence")}.`);
  return out;
}

// "46.5 km" as the page's language writes it: 46,5 km in Vietnamese
const decimals = (text) => (text ? (state.lang === "vi" ? text.replace(/(\d)\.(\d)/g, "$1,$2") : text) : "–");

async function renderFront() {
  const fronts = await api("/api/v1/saltfront?days=14");
  $("front").replaceChildren(...fronts.map((f) => {
    const today = f.today || {}, history = f.history.concat(f.today ? [f.today] : []);
    const kms = history.map((d) => d.km_4ppt).filter((v) => v !== null);
    const most = Math.max(10, ...kms), spark = svg("svg", { viewBox: "0 0 140 30", class: "spark" });
    spark.append(svg("path", { d: history.map((d, i) => `${i ? "L" : "M"}${(i / Math.max(1, history.length - 1) * 138 + 1).toFixed(1)},${(29 - (d.km_4ppt || 0) / most * 27).toFixed(1)}`).join(""), stroke: "#0b4f6c", fill: "none" }));
    const risks = f.risk || [], top = Math.max(0, ...risks.map((r) => r.level));
    const levels = risks.map((r) => `${t(r.basis)} ${r.level}${r.by ? ` (${r.by === "4ppt" ? "4‰" : "1‰"})` : ""}`);
    const declared = f.risk_declared ? ` · ${t("declared")} ${f.risk_declared.level}` : "";
    return el("li", { class: `risk-${f.risk_declared ? f.risk_declared.level : top}` },
      el("strong", {}, f.name), ` 4‰: ${decimals(f.text_4ppt)} · 1‰: ${decimals(f.text_1ppt)} · `,
      el("span", { class: "level" }, `${t("risk")}: ${levels.join(" · ") || "–"}${declared}`), " ", spark);
  }));
}

// a spreadsheet to keep: fetched with the token, saved as a file; in Vietnamese, the file a
// spreadsheet set to Vietnamese reads as numbers (";" between fields, decimal commas)
async function download(path, name, style = state.lang === "vi" ? "vi" : "intl") {
  const response = await fetch(`${path}${path.includes("?") ? "&" : "?"}style=${style}`, { headers: bearer() });
  if (!response.ok) { connected(false); return; }
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link); link.click(); link.remove();
}

async function openBulletin(kind = "daily") {
  // yesterday's bulletin (and the week's) is issued when first asked for: it then has a link of
  // its own (no token), opened as a real page to reload, bookmark and forward, with its PDF one
  // tap away
  const zone = state.zone ? `&zone=${encodeURIComponent(state.zone)}` : "";
  const shown = window.open("", "_blank");  // opened now, inside the tap: browsers block it later
  const response = await fetch(`/api/v1/reports/${kind}?lang=${state.lang}${zone}`, { headers: bearer() });
  const link = response.ok && response.headers.get("Content-Location");
  if (link && shown) shown.location.href = link;
  else if (shown) shown.close();
}

// who did what, for an admin's token (the panel stays hidden for the others: a 403 once, then
// never asked again)
async function renderAudit() {
  if (state.admin === false) return;
  let page;
  try { page = await api("/api/v1/audit?limit=30"); } catch (error) { if (error.status === 403) state.admin = false; return; }
  state.admin = true;
  $("audit-panel").hidden = false;
  $("audit").replaceChildren(...page.items.map((e) => el("li", {}, el("strong", {}, e.actor), ` ${t_in("actions", e.action)}`,
    el("span", { class: "when" }, ` ${fmtTime(e.at)}`), ...(e.detail && e.action !== "rules.update" ? [el("div", { class: "meta" }, e.detail)] : []))));
}

function renderSupply(rows) {
  const names = Object.fromEntries(state.zones.map((z) => [z.id, zoneName(z)]));
  const kinds = Object.fromEntries(state.zones.map((z) => [z.id, z.kind]));
  const mine = rows.filter((r) => inZone(r.zone));
  const communes = mine.filter((r) => kinds[r.zone] === "commune");
  $("supply").tBodies[0].replaceChildren(...(communes.length ? communes : mine).map((r) => el("tr", {},
    el("td", {}, names[r.zone] || r.zone), el("td", {}, `${r.wells_running} / ${r.wells_total}`),
    el("td", {}, `${r.taps_open} / ${r.taps_total}`), el("td", {}, num(r.tap_m3_today, 1)))));
  // what is out of order: wells and taps with an open alert, or a well reporting a fault
  const open = state.alerts.filter((a) => a.state !== "resolved" && a.device);
  const broken = [...state.wells, ...state.taps].filter((d) => inZone(d.zone)).flatMap((d) => {
    const why = open.filter((a) => a.device === d.id).map(message);
    if (!why.length && d.latest && d.latest.values.fault) why.push(`${d.name}: fault ${d.latest.values.fault}`);
    return why.length ? [el("li", {}, el("strong", {}, d.name), ` (${names[d.zone] || d.zone}) — ${why.join(" · ")}`)] : [];
  });
  $("broken").replaceChildren(...(broken.length ? broken : [el("li", {}, t("nobroken"))]));
}

// every rule an operator may mute, in words: a person never reads a rule id
const ruleName = (id) => t_in("rules", id);
const vnInput = (date) => new Date(date.getTime() + 7 * 3600e3).toISOString().slice(0, 16);  // datetime-local, Vietnam time
function renderWindows() {
  const names = Object.fromEntries(state.zones.map((z) => [z.id, zoneName(z)]));
  const rows = state.windows.filter((w) => !w.zone || inZone(w.zone)).map((w) => {
    const scope = [w.zone && names[w.zone], w.device && deviceName(w.device), w.rule && ruleName(w.rule)].filter(Boolean).join(" · ");
    return el("li", { "data-id": w.id }, el("strong", {}, scope), ` — ${fmtTime(w.starts_at)} → ${fmtTime(w.ends_at)} (${w.active ? t("active") : t("scheduled")})`,
      el("div", { class: "meta" }, `${w.reason} · ${w.author}`),
      el("button", { type: "button", class: "cancel", onclick: () => cancelWindow(w) }, t("cancel")));
  });
  $("windows").replaceChildren(...(rows.length ? rows : [el("li", {}, t("nowindows"))]));
}
function maintenanceForm() {
  const zone = $("m-zone").value || state.zone;
  zoneOptions($("m-zone"), zone, t("any"));
  const inside = covered(zone);
  const devices = [...state.stations, ...state.wells, ...state.taps].filter((d) => !inside || inside.has(d.zone));
  const device = $("m-device").value;
  $("m-device").replaceChildren(el("option", { value: "" }, t("any")), ...devices.map((d) => el("option", { value: d.id }, d.name)));
  $("m-device").value = devices.some((d) => d.id === device) ? device : "";
  const rule = $("m-rule").value;
  $("m-rule").replaceChildren(el("option", { value: "" }, t("any")), ...Object.keys(TEXT.vi.rules || {}).map((r) => el("option", { value: r }, ruleName(r))));
  $("m-rule").value = rule;
  if (!$("m-start").value || $("m-start").dataset.auto) defaultTimes();
}
// the form's own times (the next full hour, for two hours) are taken again when it is sent, so a
// form left open a while (or the demo's fast clock) does not send a start already past; times the
// engineer typed are sent as typed
function defaultTimes() {
  const start = new Date(Math.ceil(serverNow() / 3600e3) * 3600e3);
  $("m-start").value = vnInput(start); $("m-end").value = vnInput(new Date(+start + 2 * 3600e3));
  $("m-start").dataset.auto = $("m-end").dataset.auto = "1";
}
async function saveWindow(event) {
  event.preventDefault();
  if ($("m-start").dataset.auto && $("m-end").dataset.auto) defaultTimes();
  const body = { starts_at: `${$("m-start").value}:00+07:00`, ends_at: `${$("m-end").value}:00+07:00`, reason: $("m-reason").value.trim() };
  for (const key of ["zone", "device", "rule"]) if ($(`m-${key}`).value) body[key] = $(`m-${key}`).value;
  try {
    await api("/api/v1/silences", { method: "POST", body: JSON.stringify(body) });
    $("m-error").hidden = true; $("m-reason").value = ""; $("maint-new").open = false;
    await refresh();
  } catch (error) {
    $("m-error").hidden = false;
    // the server explains in English: in the Vietnamese page, the form says it in Vietnamese
    const detail = typeof error.detail === "string" ? error.detail : error.message;
    const known = Object.entries(TEXT[state.lang].refusals || {}).find(([start]) => detail.startsWith(start));
    const why = known && known[1] ? known[1] : detail;
    $("m-error").textContent = error.status === 403 ? t("noperm") : fill(t("badwindow"), { why });
  }
}
async function cancelWindow(w) {
  try { await api(`/api/v1/silences/${w.id}`, { method: "DELETE" }); await refresh(); }
  catch (error) { if (error.status === 403) window.alert(t("noperm")); }
}

// the server's clock: the demo plays a past season in accelerated time
const clock = { server: Date.now(), wall: Date.now(), rate: 1 };
const serverNow = () => new Date(clock.server + (Date.now() - clock.wall) * clock.rate);

async function syncClock() {
  try {
    const health = await (await fetch("/health")).json();
    Object.assign(clock, { server: Date.parse(health.now), wall: Date.now(), rate: health.clock_rate });
  } catch (error) { /* keep the browser's clock */ }
}

let pending = null;  // alert bursts: one refresh for many events
function refreshSoon() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 1000); }

async function refresh() {
  const zone = state.zone ? `&zone=${encodeURIComponent(state.zone)}` : "";
  let fetched;
  try {
    fetched = await Promise.all([api("/api/v1/zones"),
      api("/api/v1/stations"), api(`/api/v1/alerts?limit=200${zone}`), api("/api/v1/summary"),
      api("/api/v1/wells"), api("/api/v1/taps"), api("/api/v1/silences?current=true"), api("/api/v1/structures"),
      api("/api/v1/schedules").catch(() => []), syncClock()]);
  } catch (error) { connected(false); throw error; }
  connected(true);
  const [zones, stations, alerts, summary, wells, taps, windows, structures, openings] = fetched;
  Object.assign(state, { zones, stations, alerts: alerts.items, wells, taps, windows, structures, openings });
  renderZonePicker(); renderAlerts(); renderStructures(); renderIntakes(); renderStations(); renderSupply(summary); renderWindows(); renderZones(); renderMap();
  maintenanceForm();
  renderFront().catch(() => {});
  renderAudit().catch(() => {});
  const mine = stations.filter((s) => inZone(s.zone));
  // the chart redraws with every refresh: the station shown, or the zone's first
  const shown = state.selected && inZone(state.selected.zone) ? stations.find((s) => s.id === state.selected.id) : null;
  if (shown || mine.length) chart(shown || mine.find((s) => s.latest) || mine[0]).catch(() => {});
}

async function live() {
  // fetch() rather than EventSource: the stream needs the Authorization header
  for (;;) {
    try {
      const response = await fetch("/api/v1/alerts/stream", { headers: bearer() });
      const reader = response.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const chunk = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const data = chunk.split("\n").find((line) => line.startsWith("data: "));
          if (data) refreshSoon();
        }
      }
    } catch (error) { /* reconnect below */ }
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

async function start() {
  translate();
  if (location.hash.startsWith("#token=")) {  // a link with the token (never sent to the server)
    state.token = decodeURIComponent(location.hash.slice(7));
    keepToken(state.token, localStorage.getItem("sw-token") === state.token);
    history.replaceState(null, "", location.pathname);
  }
  if (location.hash.startsWith("#code=")) {  // a one-time code's link: exchanged for a session cookie
    const code = decodeURIComponent(location.hash.slice(6));
    history.replaceState(null, "", location.pathname);
    if (!(await signIn(code))) { askToken(true); return; }
  }
  // no token: a session cookie may sign this browser in (the rules answer 401 when not)
  try { state.rules = await api("/api/v1/rules"); } catch (error) { if (error.message === "unauthorized") return; }
  await refresh();
  live();
  setInterval(() => refresh().catch(() => {}), clock.rate > 1 ? 10000 : 60000);
}

const wide = matchMedia("(min-width: 760px)");  // a desktop: the header's menu stays open in line
const keepMenu = () => { document.querySelector(".menu").open = wide.matches; };
wide.addEventListener("change", keepMenu); keepMenu();
// on a phone the menu closes once an item in it is chosen, or on a tap elsewhere: left open, it
// covered the first alert's acknowledge button
document.addEventListener("click", (event) => {
  const menu = document.querySelector(".menu");
  if (!wide.matches && menu.open && (!menu.contains(event.target) || event.target.closest(".controls button"))) menu.open = false;
});
// the sign-in form takes a one-time code (ABCDE-FGH23, asked for on a signed-in screen) or a token
const CODE = /^[A-HJKMNP-Z2-9]{5}-?[A-HJKMNP-Z2-9]{5}$/i;
async function signIn(code) {
  const response = await fetch("/api/v1/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }) });
  if (response.ok) state.token = null;
  return response.ok;
}
$("login-form").addEventListener("submit", async () => {
  const typed = $("token").value.trim();
  if (CODE.test(typed)) { if (!(await signIn(typed))) { askToken(true); return; } } else { state.token = typed; keepToken(state.token, $("remember").checked); }
  start();
});
$("phone").addEventListener("click", async () => {  // a code to sign a phone in, valid 10 minutes, once
  try {
    const made = await api("/api/v1/signin-codes", { method: "POST" });
    $("phone-text").textContent = fill(t("phoneCode"), { code: made.code });
    $("phone-qr").src = made.qr;  // for the phone's camera
    $("phone-link").href = made.link; $("phone-link").textContent = made.link;
    $("phone-dialog").showModal();
  } catch (error) { if (error.status === 409) window.alert(t("noCodes")); }
});
$("lang").addEventListener("click", () => { state.lang = state.lang === "vi" ? "en" : "vi"; localStorage.setItem("sw-lang", state.lang); translate(); refresh(); });
$("zone").addEventListener("change", () => { state.zone = $("zone").value; localStorage.setItem("sw-zone", state.zone); $("m-zone").value = ""; refresh(); });
$("m-zone").addEventListener("change", maintenanceForm);
$("maint-form").addEventListener("submit", saveWindow);
for (const id of ["m-start", "m-end"]) $(id).addEventListener("input", () => { delete $("m-start").dataset.auto; delete $("m-end").dataset.auto; });
$("bulletin").addEventListener("click", () => { openBulletin(); });
$("weekly").addEventListener("click", () => { openBulletin("weekly"); });
$("handheld").addEventListener("submit", (event) => { event.preventDefault(); enterReading(); });
$("csv-station").addEventListener("click", () => { if (state.selected) download(`/api/v1/stations/${state.selected.id}/readings.csv`, `${state.selected.id}.csv`); });
$("xlsx-station").addEventListener("click", () => { if (state.selected) download(`/api/v1/stations/${state.selected.id}/readings.csv`, `${state.selected.id}.xlsx`, "xlsx"); });
$("csv-alerts").addEventListener("click", () => download(`/api/v1/alerts.csv${state.zone ? `?zone=${encodeURIComponent(state.zone)}` : ""}`, "saltwatch-alerts.csv"));
$("logout").addEventListener("click", () => {
  localStorage.removeItem("sw-token"); sessionStorage.removeItem("sw-token"); state.token = null;
  fetch("/api/v1/session", { method: "DELETE" }).finally(() => askToken(false));
});
setInterval(() => { $("clock").textContent = fmtTime(serverNow().toISOString()); }, 1000);
loadText().then(start);
