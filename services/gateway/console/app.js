// Zhiyuan web console: a small single-page app over the gateway's own API
// (/api/v1). Routes live in the hash: #/login?next=..., #/dashboard/<code>.
// The token is kept in sessionStorage; a 401 sends the user to the login
// page with the route to come back to, a 403 shows the access-denied page.
"use strict";

// Filled by text.js and pages/*.text.js (zy.dictionary).
const TEXT = { zh: {}, en: {} };
const FIGURES = ["volunteers_registered", "volunteers_verified", "organisations", "projects",
  "hours_year", "hours_total", "tonnes", "bins_deployed", "stars", "awards"];

let lang = localStorage.getItem("zy.lang") || "zh";
const t = (key) => (TEXT[lang][key] ?? key);
const locale = () => (lang === "zh" ? "zh-CN" : "en-GB");
const num = (v) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(v);
const view = () => document.getElementById("view");
// The one China-time formatter. ``v`` is a moment (RFC 3339 or epoch ms), a
// China calendar day "YYYY-MM-DD" or a month "YYYY-MM"; it is shown in China
// time (Asia/Shanghai, UTC+8 all year) in the current language, whatever the
// browser's own zone. ``style``: minutes (default), seconds, day, longDay, month.
const CHINA_STYLES = {
  minutes: { dateStyle: "medium", timeStyle: "short" },
  seconds: { dateStyle: "medium", timeStyle: "medium" },
  day: { dateStyle: "medium" },
  longDay: { dateStyle: "long" },
  month: { year: "numeric", month: "long" },
};
function when(v, style = "minutes") {
  if (v === null || v === undefined || v === "") return "";
  // A bare day or month names a China date: noon China time stays on it.
  const moment = /^\d{4}-\d{2}$/.test(v) ? `${v}-15T12:00:00+08:00`
    : /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T12:00:00+08:00` : v;
  return new Intl.DateTimeFormat(locale(), { ...CHINA_STYLES[style], timeZone: "Asia/Shanghai" }).format(new Date(moment));
}
// A figure a service could not give (null while it is unavailable) shows as a dash.
const fig = (v) => (v === null || v === undefined ? "—" : num(v));

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "on") Object.entries(v).forEach(([e, f]) => node.addEventListener(e, f));
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c)));
  return node;
}

class HttpError extends Error {
  constructor(status, body) { super(`HTTP ${status}`); this.status = status; this.body = body; }
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem("zy.token");
  const headers = { ...(options.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401 && !path.startsWith("/login")) {
    sessionStorage.removeItem("zy.token");
    // Several calls may fail at once: the first one remembers where to return.
    if (!location.hash.startsWith("#/login")) {
      saveDraft();
      go(`#/login?next=${encodeURIComponent(location.hash)}&expired=1`);
    }
    throw new HttpError(401, null);
  }
  if (!response.ok) throw new HttpError(response.status, await response.json().catch(() => null));
  return response;
}

// A form the user was filling when the session expired is kept in this tab
// and put back once they are logged in again on the same page.
function saveDraft() {
  const fields = [...view().querySelectorAll("input[name], textarea[name], select[name]")]
    .filter((n) => !["password", "file"].includes(n.type))
    .map((n) => ({ name: n.name, value: n.value, checked: n.checked }));
  if (fields.some((f) => f.value || f.checked)) {
    sessionStorage.setItem("zy.draft", JSON.stringify({ hash: location.hash, fields }));
  }
}

function restoreDraft() {
  const draft = JSON.parse(sessionStorage.getItem("zy.draft") || "null");
  if (!draft || draft.hash !== location.hash) return;
  sessionStorage.removeItem("zy.draft");
  const seen = {};
  for (const f of draft.fields) {
    const index = (seen[f.name] = (seen[f.name] ?? -1) + 1);
    const node = view().querySelectorAll(`[name="${CSS.escape(f.name)}"]`)[index];
    if (!node) continue;
    if (node.type === "checkbox" || node.type === "radio") node.checked = f.checked;
    else node.value = f.value;
  }
}

function go(hash) { if (location.hash === hash) route(); else location.hash = hash; }

function renderLogin(params) {
  const error = el("p", { class: "error", "data-testid": "login-error" });
  if (params.get("expired")) error.textContent = t("expired");
  const user = el("input", { name: "username", autocomplete: "username", "aria-label": t("username"), placeholder: t("username") });
  const pass = el("input", { name: "password", type: "password", autocomplete: "current-password", "aria-label": t("password"), placeholder: t("password") });
  const form = el("form", { class: "card login", "data-testid": "login-form", on: { submit: async (e) => {
    e.preventDefault();
    try {
      const r = await api("/login", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: user.value, password: pass.value }) });
      const token = (await r.json()).access_token;
      sessionStorage.setItem("zy.token", token);
      const [me] = await Promise.all([getJson("/me"), loadRoles()]);
      const reader = inGroup(me, "readers");
      // Residents and volunteers have the public notice, not the office pages.
      go(params.get("next") || (reader ? "#/dashboard" : "#/commendation/notice"));
    } catch (err) { error.textContent = t("badLogin"); }
  } } }, el("h2", { text: t("login") }), user, pass, el("button", { type: "submit", text: t("login") }), error);
  view().replaceChildren(form);
}

function renderDenied() {
  view().replaceChildren(el("section", { class: "card denied", "data-testid": "denied" },
    el("h1", { text: "403" }), el("h2", { text: t("denied") }), el("p", { text: t("deniedText") }),
    el("a", { href: "#/dashboard", text: t("back") })));
}

function barChart(series, { horizontal = false, labelOf = (d) => d.label } = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 420, height = horizontal ? Math.max(60, series.length * 20 + 10) : 180;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", "100%");
  if (!series.some((d) => d.value > 0)) {
    return el("p", { class: "empty", "data-empty": "1", text: t("noData") });
  }
  const max = Math.max(1e-9, ...series.map((d) => d.value));
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
    if (text !== undefined) n.textContent = text;
    svg.append(n);
  };
  series.forEach((d, i) => {
    const title = `${labelOf(d)}: ${num(d.value)}`;
    if (horizontal) {
      const w = (d.value / max) * (width - 170);
      add("text", { x: 0, y: i * 20 + 18 }, labelOf(d));
      add("rect", { x: 110, y: i * 20 + 6, width: Math.max(w, 0.5), height: 14, fill: "#d9534f", "data-value": d.value });
      add("text", { x: 114 + w, y: i * 20 + 18 }, num(d.value));
    } else {
      const slot = width / series.length, h = (d.value / max) * (height - 40);
      add("rect", { x: i * slot + 3, y: height - 22 - h, width: slot - 6, height: Math.max(h, 0.5), fill: "#d9534f", "data-value": d.value });
      add("text", { x: i * slot + slot / 2, y: height - 8, "text-anchor": "middle" }, labelOf(d));
    }
    svg.lastChild.previousSibling?.setAttribute?.("aria-label", title);
  });
  return svg;
}

async function download(code, year, format) {
  const r = await api(`/dashboard/export?division_code=${code}&year=${year}&format=${format}`);
  const url = URL.createObjectURL(await r.blob());
  const a = el("a", { href: url, download: `zhiyuan-${code}-${year}.${format}` });
  document.body.append(a); a.click(); a.remove(); URL.revokeObjectURL(url);
}

async function renderDashboard(code) {
  view().replaceChildren(el("p", { text: t("loading") }));
  const asked = location.hash;
  let board;
  try {
    board = await (await api(`/dashboard?division_code=${code || ""}`)).json();
    if (location.hash !== asked) return undefined; // the user went elsewhere meanwhile
  } catch (err) {
    if (location.hash !== asked) return undefined;
    if (err.status === 403) return renderDenied();
    if (err.status === 401) return undefined;
    view().replaceChildren(el("p", { class: "error", text: `${t("failed")}: ${err.body?.error?.[lang === "zh" ? "message_zh" : "message_en"] || err.message}` }));
    return undefined;
  }
  const crumbs = el("nav", { class: "crumbs", "data-testid": "breadcrumb" });
  board.breadcrumb.forEach((c, i) => {
    if (i) crumbs.append(el("span", { class: "sep", text: "›" }));
    crumbs.append(el("a", { href: `#/dashboard/${c.code}`, "data-code": c.code, text: c.name || c.code }));
  });
  const figures = el("section", { class: "figures" }, FIGURES.map((f) =>
    el("div", { class: "card figure" },
      el("div", { class: "v", "data-testid": `figure-${f}`, "data-value": board.headline[f] ?? "", text: fig(board.headline[f]) }),
      el("div", { class: "k", text: t(f) }))));
  // A service that could not answer: a banner names it, its charts say so,
  // and everything the other services gave is drawn as usual.
  const missing = board.unavailable || [];
  const chart = (service, series, options) => (missing.includes(service)
    ? el("p", { class: "empty", "data-unavailable": service, text: t("unavailableChart") })
    : barChart(series, options));
  const banner = board.notice ? el("p", { class: "banner", role: "alert", "data-testid": "unavailable",
    "data-services": missing.join(","),
    text: `部分数据暂不可用 / Some data is unavailable: ${board.notice.labels.join("、")}` }) : "";
  const charts = el("section", { class: "charts" },
    el("div", { class: "card", "data-testid": "chart-hours-by-month" }, el("h3", { text: t("hours_by_month") }),
      chart("hours", board.charts.hours_by_month, { labelOf: (d) => d.label.slice(5) })),
    el("div", { class: "card", "data-testid": "chart-hours-by-field" }, el("h3", { text: t("hours_by_field") }),
      chart("hours", board.charts.hours_by_field, { horizontal: true, labelOf: (d) => (lang === "zh" ? d.label_zh : d.label_en || d.label) })),
    el("div", { class: "card", "data-testid": "chart-tonnes-by-child" }, el("h3", { text: t("tonnes_by_child") }),
      chart("recycling", board.charts.tonnes_by_child, { horizontal: true })),
    el("div", { class: "card", "data-testid": "chart-stars" }, el("h3", { text: t("stars_chart") }),
      chart("commendation", board.charts.stars, { labelOf: (d) => `${d.label}★` })));
  const drillable = board.node.level !== "township";
  const columns = ["code", "name", ...FIGURES];
  const table = el("table", { "data-testid": "children" },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: t(c) })))),
    el("tbody", {}, board.children.map((row) => el("tr", {
      class: drillable ? "drill" : "", "data-code": row.code,
      on: drillable ? { click: () => go(`#/dashboard/${row.code}`) } : {},
    }, columns.map((c) => el("td", { "data-col": c, text: c === "code" || c === "name" ? row[c] : fig(row[c]) }))))));
  const tools = el("div", { class: "tools" },
    el("button", { type: "button", "data-testid": "export-csv", text: `${t("export")} CSV`, on: { click: () => download(board.node.code, board.year, "csv") } }),
    el("button", { type: "button", "data-testid": "export-xlsx", text: `${t("export")} XLSX`, on: { click: () => download(board.node.code, board.year, "xlsx") } }));
  view().replaceChildren(crumbs, banner,
    el("h2", { "data-testid": "node-name", text: `${board.node.name || board.node.code} · ${t("year")} ${board.year}` }),
    figures, charts, el("h3", { text: t("children") }), tools, el("div", { class: "card" }, table));
}

// Import templates: the header each kind of file needs.
const IMPORTS = {
  volunteers: { path: "/imports/volunteers", title: "importVolunteers", help: "importHelp",
    header: "姓名,身份证号,手机号,区划代码,服务领域" },
  hours: { path: "/imports/hours", title: "importHours", help: "importHoursHelp",
    header: "志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因" },
};

function renderImport(params) {
  const kind = IMPORTS[params?.get("kind")] ? params.get("kind") : "volunteers";
  const spec = IMPORTS[kind];
  const tabs = el("nav", { class: "tools", "data-testid": "import-kinds" }, Object.keys(IMPORTS).map((k) =>
    el("a", { href: `#/import?kind=${k}`, class: k === kind ? "active" : "", "data-kind": k, text: t(IMPORTS[k].title) })));
  const template = el("a", { href: URL.createObjectURL(new Blob([`\ufeff${spec.header}\r\n`], { type: "text/csv" })),
    download: `zhiyuan-${kind}-template.csv`, "data-testid": "import-template", text: t("template") });
  const file = el("input", { type: "file", accept: ".csv,text/csv,.xlsx", "data-testid": "import-file", "aria-label": t("chooseFile") });
  const progress = el("progress", { max: "1", value: "0", "data-testid": "import-progress" });
  const summary = el("p", { "data-testid": "import-summary" });
  const body = el("tbody");
  const report = el("table", { "data-testid": "import-report" },
    el("thead", {}, el("tr", {}, [t("row"), t("field"), t("rule"), t("message")].map((h) => el("th", { text: h })))), body);
  const start = el("button", { type: "button", "data-testid": "import-start", text: t("start"), on: { click: async () => {
    if (!file.files.length) return;
    start.disabled = true; body.replaceChildren(); summary.textContent = "";
    let done = 0, ok = 0, bad = 0;
    try {
      const response = await api(spec.path, { method: "POST", headers: { "content-type": "text/csv" }, body: await file.files[0].arrayBuffer() });
      const reader = response.body.getReader(), decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done: end } = await reader.read();
        buffer += decoder.decode(value || new Uint8Array(), { stream: !end });
        const lines = buffer.split("\n"); buffer = lines.pop();
        for (const line of lines.filter(Boolean)) {
          const item = JSON.parse(line);
          if (item.total !== undefined) progress.max = Math.max(item.total, 1);
          else if (item.progress !== undefined) progress.value = item.progress;
          else if (item.row !== undefined) {
            done += 1; progress.value = done;
            if (item.ok) ok += 1;
            else {
              bad += 1;
              body.append(el("tr", { "data-row": item.row }, el("td", { text: item.row }), el("td", { text: item.field || "" }),
                el("td", { text: item.rule || "" }), el("td", { text: lang === "zh" ? item.message_zh : item.message_en })));
            }
            summary.textContent = `${t("imported")} ${num(ok)} · ${t("failedRows")} ${num(bad)}`;
          } else if (item.done) {
            progress.value = progress.max;
            summary.textContent = `${t("imported")} ${num(item.imported)} · ${t("failedRows")} ${num(item.failed)}`
              + (item.failed ? "" : ` · ${t("allGood")}`);
            summary.dataset.imported = item.imported; summary.dataset.failed = item.failed;
          }
        }
        if (end) break;
      }
    } catch (err) {
      if (err.status !== 401) summary.textContent = `${t("failed")}: ${err.body?.error?.[lang === "zh" ? "message_zh" : "message_en"] || err.message}`;
    } finally { start.disabled = false; }
  } } });
  view().replaceChildren(el("section", { class: "card", "data-kind": kind }, tabs, el("h2", { text: t(spec.title) }),
    el("p", { "data-testid": "import-help", text: t(spec.help) }, " ", template),
    el("div", { class: "tools" }, file, start), progress, summary, report));
}

async function renderHours() {
  view().replaceChildren(el("p", { text: t("loading") }));
  const asked = location.hash;
  const r = await api("/hours/records?status=RECORD_STATUS_PENDING&page_size=100").catch((err) => err);
  if (location.hash !== asked) return undefined; // the user went elsewhere meanwhile
  if (r instanceof Error) {
    if (r.status === 403) return renderDenied();
    if (r.status !== 401) view().replaceChildren(el("p", { class: "error", text: t("failed") }));
    return undefined;
  }
  const records = (await r.json()).records || [];
  const act = async (id, verb, body) => {
    try {
      await api(`/hours/records/${id}/${verb}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
      renderHours();
    } catch (err) {
      if (err.status !== 401) alert(err.body?.error?.[lang === "zh" ? "message_zh" : "message_en"] || err.message);
    }
  };
  const rows = records.map((rec) => el("tr", { "data-id": rec.id },
    el("td", { text: rec.volunteer_number }), el("td", { text: rec.division_code }),
    el("td", { text: rec.content }), el("td", { text: when(rec.started_at) }), el("td", { text: num(rec.hours) }),
    el("td", {},
      el("button", { type: "button", "data-action": "approve", text: t("approve"), on: { click: () => act(rec.id, "approve") } }),
      el("button", { type: "button", "data-action": "reject", text: t("reject"), on: { click: () => {
        const reason = prompt(t("rejectReason"));
        if (reason) act(rec.id, "reject", { reason });
      } } }))));
  view().replaceChildren(el("section", { class: "card" }, el("h2", { text: t("hoursQueue") }),
    records.length ? el("table", { "data-testid": "hours-queue" },
      el("thead", {}, el("tr", {}, ["volunteer", "division", "content", "started", "hours", "actions"].map((h) => el("th", { text: t(h) })))),
      el("tbody", {}, rows)) : el("p", { "data-testid": "hours-empty", text: t("none") })));
  return undefined;
}

async function renderWho() {
  const who = document.getElementById("who");
  const logout = document.getElementById("logout");
  if (!sessionStorage.getItem("zy.token")) { who.textContent = ""; logout.hidden = true; return; }
  try {
    const [me] = await Promise.all([getJson("/me"), loadRoles()]);
    who.textContent = `${me.username} · ${me.scope_code}`;
    logout.hidden = false;
    // Links to pages the user's roles cannot open are hidden (the services
    // refuse them anyway; this only spares the user a dead end).
    document.querySelectorAll("nav.links a[data-roles]").forEach((a) => {
      a.hidden = !inGroup(me, a.dataset.roles);
    });
  } catch (err) { who.textContent = ""; }
}

// The services' role groups (admins, managers, readers, reviewers), served by
// GET /api/v1/roles from services/common/roles.py and fetched once, so the
// console shows what the services allow without a copy of their lists.
let roleGroups = null;
async function loadRoles() {
  if (!roleGroups) roleGroups = (await getJson("/roles")).groups;
  return roleGroups;
}
// Whether ``me`` (GET /me) holds a role of ``group``; pages render after
// route() has loaded the groups.
const inGroup = (me, group) => (me?.roles || []).some((r) => (roleGroups?.[group] || []).includes(r));

function route() {
  document.documentElement.lang = locale();
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.getElementById("lang").textContent = t("lang");
  const [path, query] = (location.hash.slice(1) || "/dashboard").split("?");
  const params = new URLSearchParams(query || "");
  const open = Object.keys(PUBLIC_PAGES).find((p) => path === p || path.startsWith(`${p}/`));
  if (open) {
    renderWho();
    return PUBLIC_PAGES[open](path.slice(open.length + 1), params);
  }
  if (path === "/login" || !sessionStorage.getItem("zy.token")) {
    renderWho();
    return renderLogin(path === "/login" ? params : new URLSearchParams(location.hash ? { next: location.hash } : {}));
  }
  renderWho();
  // Without the groups a page shows no manager's tools; it still renders.
  return loadRoles().catch(() => null).then(() => renderPage(path, params)).then(restoreDraft);
}

function renderPage(path, params) {
  if (path === "/import") return renderImport(params);
  if (path === "/hours") return renderHours();
  const page = Object.keys(PAGES).find((p) => path === p || path.startsWith(`${p}/`));
  if (page) return PAGES[page](path.slice(page.length + 1), params);
  const match = path.match(/^\/dashboard(?:\/(\d+))?$/);
  return renderDashboard(match ? match[1] || "" : "");
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("zy.lang", lang);
  route();
});
document.getElementById("logout").addEventListener("click", () => {
  sessionStorage.removeItem("zy.token");
  go("#/login");
});
window.addEventListener("hashchange", route);
// Helpers every page shares.
const getJson = async (path) => (await api(path)).json();
const postJson = async (path, body, method = "POST") => (await api(path, {
  method, headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}),
})).json();

// A random UUID (v4) for idempotency keys; crypto.randomUUID needs a secure
// context (https or localhost), getRandomValues does not.
function uuid() {
  if (window.crypto?.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The label of a field an API error names (id_number, sessions[1].ends_at)
// in the current language: its "field.*" entry (fields.text.js; an index
// is dropped there and shown as the position after the label), else the
// label of the control carrying the field in ``near`` (the form the error
// is shown in), else the key.
function fieldLabel(key, near = view()) {
  const index = key.match(/\[(\d+)\]/);
  const at = index ? ` #${Number(index[1]) + 1}` : "";
  const known = TEXT[lang][`field.${key.replace(/\[\d+\]/g, "")}`];
  if (known) return `${known}${at}`;
  const control = near.querySelector(`[data-field="${CSS.escape(key)}"], [name="${CSS.escape(key)}"]`);
  const label = control?.closest("label")?.querySelector("span")?.textContent
    || control?.querySelector("legend")?.textContent || control?.getAttribute("aria-label");
  return label ? label.trim() : key;
}

// Writes an API error into `node` as "label: message" in the current
// language (the field's label, not its key), with the field's key and the
// rule in data-field / data-rule.
function showError(node, err) {
  const e = err?.body?.error;
  const message = e ? (lang === "zh" ? e.message_zh : e.message_en) : `${t("failed")}: ${err?.message || err}`;
  node.textContent = e?.field ? `${fieldLabel(e.field, node.closest("form, section") || view())}${lang === "zh" ? "：" : ": "}${message}` : message;
  node.dataset.field = e?.field || "";
  node.dataset.rule = e?.rule || "";
  node.hidden = false;
}
function clearError(node) { node.textContent = ""; node.dataset.field = ""; node.dataset.rule = ""; }

// Every item of a paged list (at most `pages` pages of 500).
async function allPages(path, key, pages = 20) {
  const items = [];
  let token = "";
  for (let i = 0; i < pages; i += 1) {
    const sep = path.includes("?") ? "&" : "?";
    const data = await getJson(`${path}${sep}page_size=500&page_token=${encodeURIComponent(token)}`);
    items.push(...(data[key] || []));
    token = data.page?.next_page_token || "";
    if (!token) break;
  }
  return items;
}

// The service fields (GET /api/v1/service-fields), fetched once; a code's
// name in the current language once they are loaded.
let fieldList = null;
async function serviceFields() {
  if (!fieldList) fieldList = (await getJson("/service-fields")).fields || [];
  return fieldList;
}
function fieldName(code) {
  const f = (fieldList || []).find((x) => x.code === code);
  return f ? (lang === "zh" ? f.name_zh : f.name_en) : code || "";
}

// Pages in their own files (pages/*.js, loaded after this one) register
// here: zy.pages["/volunteers"] = (rest, params) => ...; their words come
// from pages/<page>.text.js through zy.dictionary.
const PAGES = {};
// Pages anyone may open without logging in (zy.publicPages["/verify"]).
const PUBLIC_PAGES = {};
window.zy = {
  api, el, t, num, go, locale, when, inGroup, fieldLabel, renderDenied, pages: PAGES, publicPages: PUBLIC_PAGES, view,
  get: getJson, post: postJson, uuid, showError, clearError, allPages, serviceFields, fieldName,
  lang: () => lang,
  // A page's words: zy.dictionary("pj", { zh: {...}, en: {...} }) adds
  // "pj.title" and so on; an empty prefix adds the shell's own keys.
  dictionary: (prefix, words) => {
    for (const language of ["zh", "en"]) {
      for (const [k, v] of Object.entries(words[language])) TEXT[language][prefix ? `${prefix}.${k}` : k] = v;
    }
  },
  // A page's key, or the shell's key of the same name (loading, failed, ...).
  scoped: (prefix) => (k) => { const v = t(`${prefix}.${k}`); return v === `${prefix}.${k}` ? t(k) : v; },
};
document.addEventListener("DOMContentLoaded", route);
