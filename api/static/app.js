// SaltWatch dashboard: static, no build step, no CDN. Vietnamese first, English second.
"use strict";

const TEXT = {
  vi: { subtitle: "giám sát xâm nhập mặn", logout: "Đổi mã", token: "Mã truy cập", enter: "Vào",
        zones: "Khu vực", alerts: "Cảnh báo đang mở", map: "Bản đồ trạm", stations: "Trạm đo mặn",
        station: "Trạm", zone: "Khu vực", salinity: "Độ mặn (‰)", time: "Lúc", chart: "Độ mặn 7 ngày",
        supply: "Giếng và vòi nước", wells: "Giếng chạy", taps: "Vòi mở", m3today: "m³ hôm nay",
        ack: "Xác nhận", acked: "đã xác nhận", by: "Ghi chú khi xác nhận (không bắt buộc)", none: "Không có cảnh báo",
        badtoken: "Mã không hợp lệ", noack: "Cần quyền operator để xác nhận", other: "English",
        front: "Ranh mặn (từ cửa sông)", risk: "Cấp độ rủi ro (tham khảo)", forecast: "dự báo 48 giờ",
        observed: "quan trắc", declared: "đã công bố",
        offline: "Mất kết nối với máy chủ — số liệu trên trang có thể đã cũ",
        remember: "Nhớ mã trên máy này", bulletin: "Bản tin hôm qua", unreliable: "Dự báo chưa đủ tin cậy",
        skill: "Dự báo: sai số 24 giờ {mae}‰, lặp lại con triều {pmae}‰ (kỹ năng {skill}), {n} lần dự báo trong {days} ngày",
        noscore: "chưa chấm điểm", persistence: "dự báo bằng lặp lại con triều (chưa cải thiện được)" },
  en: { subtitle: "saltwater intrusion monitoring", logout: "Change token", token: "Access token",
        enter: "Enter", zones: "Zones", alerts: "Open alerts", map: "Station map",
        stations: "Salinity stations", station: "Station", zone: "Zone", salinity: "Salinity (‰)",
        time: "At", chart: "Salinity, 7 days", supply: "Wells and taps", wells: "Wells running",
        taps: "Taps open", m3today: "m³ today", ack: "Acknowledge", acked: "acknowledged",
        by: "Note with the acknowledgement (optional)", none: "No alerts", badtoken: "Invalid token",
        noack: "Acknowledging needs the operator role", other: "Tiếng Việt",
        front: "Salt front (from the mouth)", risk: "Risk level (indicative)", forecast: "48 h forecast",
        observed: "observed", declared: "declared",
        offline: "Connection lost — the figures on this page may be out of date",
        remember: "Remember the token on this device", bulletin: "Yesterday's bulletin", unreliable: "Forecast not yet reliable",
        skill: "Forecast: 24 h error {mae}‰, tidal-day persistence {pmae}‰ (skill {skill}), {n} forecasts in {days} days",
        noscore: "not scored yet", persistence: "forecast is tidal-day persistence (no gain found yet)" },
};
// the token lives for this tab only, unless its holder asked to be remembered on this device
const saved = () => sessionStorage.getItem("sw-token") || localStorage.getItem("sw-token");
function keepToken(token, remember) {
  sessionStorage.setItem("sw-token", token);
  if (remember) localStorage.setItem("sw-token", token); else localStorage.removeItem("sw-token");
}
const state = { lang: localStorage.getItem("sw-lang") || "vi", token: saved(),
                rules: null, stations: [], zones: [], alerts: [], selected: null };
const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[state.lang][key] || key;
const fmtTime = (iso) => iso ? new Intl.DateTimeFormat(state.lang === "vi" ? "vi-VN" : "en-GB",
  { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short" }).format(new Date(iso)) : "–";

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

function connected(ok) {  // a banner while the server cannot be reached: old figures look live
  $("offline").hidden = ok; $("offline").textContent = t("offline");
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options,
      headers: { ...(options.headers || {}), Authorization: `Bearer ${state.token}`, "Content-Type": "application/json" } });
  } catch (error) { connected(false); throw error; }
  connected(response.status < 500);
  if (response.status === 401) { askToken(true); throw new Error("unauthorized"); }
  if (!response.ok) throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
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

function levelOf(station, value) {
  const levels = state.rules && state.rules.salinity[station.profile];
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
        state.lang === "en" && z.name_en ? z.name_en : z.name, branch(z.id)));
    }
    return list;
  };
  $("zones").replaceChildren(...branch("").children);
}

const RANK = { critical: 0, warning: 1, info: 2 };
const SEVERITY = { vi: { critical: "NGUY HIỂM", warning: "CẢNH BÁO", info: "THÔNG TIN" },
                   en: { critical: "CRITICAL", warning: "WARNING", info: "INFO" } };

function renderAlerts() {  // the most severe first, then the oldest; each in plain words
  const open = state.alerts.filter((a) => a.state === "firing" || a.state === "acknowledged")
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.started_at.localeCompare(b.started_at));
  if (!open.length) { $("alerts").replaceChildren(el("li", {}, t("none"))); return; }
  $("alerts").replaceChildren(...open.map((a) => {
    const item = el("li", { class: `${a.severity} ${a.state}`, "data-id": a.id },
      el("strong", {}, `${SEVERITY[state.lang][a.severity]} · ${a.zone_name}`), " ",
      (state.lang === "vi" ? a.message_vi : a.message_en) || `${a.device || ""} ${num(a.value)} ${a.unit} — ${a.rule}`,
      el("div", { class: "meta" }, `${fmtTime(a.started_at)} · ${a.state === "acknowledged" ? `${t("acked")}: ${a.acked_by}` : a.state}`));
    if (a.state === "firing") item.append(" ", el("button", { type: "button", class: "ack", onclick: () => acknowledge(a) }, t("ack")));
    return item;
  }));
}

async function acknowledge(alert) {
  // who acknowledges is the token's name (the server records it); a note is optional
  const note = prompt(t("by"), "");
  if (note === null) return;
  try {
    const body = JSON.stringify(note.trim() ? { note: note.trim() } : {});
    const updated = await api(`/api/v1/alerts/${alert.id}/ack`, { method: "POST", body });
    state.alerts = state.alerts.map((a) => (a.id === updated.id ? updated : a));
    renderAlerts();
  } catch (error) { if (error.status === 403) alert_(t("noack")); }
}
const alert_ = (message) => window.alert(message);
const num = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(Math.abs(v) < 10 ? 2 : 1));

function renderStations() {
  const names = Object.fromEntries(state.zones.map((z) => [z.id, z.name]));
  const rows = state.stations.map((s) => {
    const value = s.latest ? s.latest.values.salinity_ppt : undefined;
    return el("tr", { class: "clickable", onclick: () => chart(s) }, el("td", {}, s.name),
      el("td", {}, names[s.zone] || s.zone), el("td", {}, s.km ?? "–"),
      el("td", { class: `val-${levelOf(s, value)}` }, value === undefined ? "–" : value.toFixed(2)),
      el("td", {}, fmtTime(s.latest && s.latest.ts)));
  });
  $("stations").tBodies[0].replaceChildren(...rows);
}

function renderMap() {
  const pts = state.stations.filter((s) => s.lat !== null && s.lon !== null);
  if (!pts.length) return;
  const lats = pts.map((s) => s.lat), lons = pts.map((s) => s.lon);
  const [x0, x1, y0, y1] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  const x = (lon) => 30 + ((lon - x0) / (x1 - x0 || 1)) * 540, y = (lat) => 330 - ((lat - y0) / (y1 - y0 || 1)) * 300;
  const map = $("map"); map.replaceChildren();
  for (const s of pts) {
    const value = s.latest ? s.latest.values.salinity_ppt : undefined;
    const colour = { ok: "#2e7d32", warning: "#ef6c00", critical: "#c62828" }[levelOf(s, value)];
    const dot = svg("circle", { cx: x(s.lon), cy: y(s.lat), r: 7, fill: value === undefined ? "#999" : colour });
    dot.append(svg("title", {}, `${s.name}: ${value === undefined ? "–" : value.toFixed(2)} ‰`));
    dot.addEventListener("click", () => chart(s));
    map.append(dot, svg("text", { x: x(s.lon) + 9, y: y(s.lat) + 4 }, s.name));
  }
}

async function chart(station) {
  state.selected = station;
  $("chart-title").textContent = `— ${station.name}`;
  const now = serverNow(), start = new Date(now - 7 * 864e5), end = new Date(+now + 2 * 864e5);
  const [data, forecast] = await Promise.all([
    api(`/api/v1/stations/${station.id}/readings?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(now.toISOString())}&every=1h`),
    api(`/api/v1/forecast/${station.id}`).catch(() => null)]);  // 409: too few readings yet
  const buckets = data.aggregates || [], points = forecast ? forecast.points : [], box = $("chart");
  box.replaceChildren();
  const levels = state.rules && state.rules.salinity[station.profile];
  const top = Math.max(1, ...buckets.map((b) => b.max), ...points.map((p) => Math.min(p.upper, 40)),
    levels ? levels.critical * 1.1 : 0);
  const x = (iso) => 40 + ((new Date(iso) - start) / (end - start)) * 590, y = (v) => 240 - (Math.min(v, top) / top) * 220;
  box.append(svg("line", { x1: 40, y1: 240, x2: 630, y2: 240, stroke: "#999" }), svg("text", { x: 2, y: 24 }, top.toFixed(1)),
    svg("line", { x1: x(now), x2: x(now), y1: 20, y2: 240, stroke: "#999", "stroke-dasharray": "2 2" }),
    svg("text", { x: x(now) + 3, y: 30, class: "muted" }, t("forecast")));
  for (const w of forecast && forecast.reliable ? forecast.windows : []) {  // safe intake windows
    box.append(svg("rect", { x: x(w.start), y: 20, width: Math.max(1, x(w.end) - x(w.start)), height: 220, fill: "#2e7d3222", class: "window" },
    ));
  }
  if (levels) for (const [name, colour] of [["warning", "#ef6c00"], ["critical", "#c62828"]]) {
    box.append(svg("line", { x1: 40, x2: 630, y1: y(levels[name]), y2: y(levels[name]), stroke: colour, "stroke-dasharray": "4 3" }),
      svg("text", { x: 42, y: y(levels[name]) - 3, fill: colour }, `${levels[name]} ‰`));
  }
  const path = (rows, key) => rows.map((b, i) => `${i ? "L" : "M"}${x(b.ts).toFixed(1)},${y(b[key]).toFixed(1)}`).join("");
  const area = (rows, hi, lo) => rows.map((b) => `${x(b.ts).toFixed(1)},${y(b[hi]).toFixed(1)}`)
    .concat(rows.slice().reverse().map((b) => `${x(b.ts).toFixed(1)},${y(b[lo]).toFixed(1)}`)).join(" ");
  if (buckets.length) {
    box.append(svg("polygon", { points: area(buckets, "max", "min"), fill: "#0b4f6c22" }),
      svg("path", { d: path(buckets, "mean"), stroke: "#0b4f6c", fill: "none" }));
  }
  if (points.length) {
    const colour = forecast.reliable ? "#6a1b9a" : "#888";  // an unearned forecast is drawn grey
    box.append(svg("polygon", { points: area(points, "upper", "lower"), fill: `${colour}22`, class: "band" }),
      svg("path", { d: path(points, "mean"), stroke: colour, fill: "none", "stroke-dasharray": "3 2" }));
  }
  $("chart-skill").replaceChildren(...skillText(forecast));
  $("chart-skill").className = forecast && !forecast.reliable ? "skill unreliable" : "skill";
}

function skillText(forecast) {  // the forecast's live score beside its band (CONTRACT §7 skill)
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
      el("strong", {}, f.name), ` 4‰: ${f.text_4ppt || "–"} · 1‰: ${f.text_1ppt || "–"} · `,
      el("span", { class: "level" }, `${t("risk")}: ${levels.join(" · ") || "–"}${declared}`), " ", spark);
  }));
}

async function openBulletin() {  // the report needs the token: fetched here, shown as a page
  const response = await fetch("/api/v1/reports/daily", { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) return;
  const page = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
  window.open(page, "_blank");
}

function renderSupply(rows) {
  const names = Object.fromEntries(state.zones.map((z) => [z.id, z.name]));
  $("supply").tBodies[0].replaceChildren(...rows.map((r) => el("tr", {},
    el("td", {}, names[r.zone] || r.zone), el("td", {}, `${r.wells_running} / ${r.wells_total}`),
    el("td", {}, `${r.taps_open} / ${r.taps_total}`), el("td", {}, r.tap_m3_today.toFixed(1)))));
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
  const [zones, stations, alerts, summary] = await Promise.all([api("/api/v1/zones"),
    api("/api/v1/stations"), api("/api/v1/alerts?limit=200"), api("/api/v1/summary"), syncClock()]);
  Object.assign(state, { zones, stations, alerts: alerts.items });
  renderZones(); renderAlerts(); renderStations(); renderMap(); renderSupply(summary);
  renderFront().catch(() => {});
  if (!state.selected && stations.length) chart(stations.find((s) => s.latest) || stations[0]);
}

async function live() {
  // fetch() rather than EventSource: the stream needs the Authorization header
  for (;;) {
    try {
      const response = await fetch("/api/v1/alerts/stream", { headers: { Authorization: `Bearer ${state.token}` } });
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
  if (!state.token) { askToken(false); return; }
  try { state.rules = await api("/api/v1/rules"); } catch (error) { if (error.message === "unauthorized") return; }
  await refresh();
  live();
  setInterval(() => refresh().catch(() => {}), clock.rate > 1 ? 10000 : 60000);
}

$("login-form").addEventListener("submit", () => { state.token = $("token").value.trim(); keepToken(state.token, $("remember").checked); start(); });
$("lang").addEventListener("click", () => { state.lang = state.lang === "vi" ? "en" : "vi"; localStorage.setItem("sw-lang", state.lang); translate(); refresh(); });
$("bulletin").addEventListener("click", () => { openBulletin(); });
$("logout").addEventListener("click", () => { localStorage.removeItem("sw-token"); sessionStorage.removeItem("sw-token"); state.token = null; askToken(false); });
setInterval(() => { $("clock").textContent = fmtTime(serverNow().toISOString()); }, 1000);
start();
