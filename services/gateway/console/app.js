// Zhiyuan web console: a small single-page app over the gateway's own API
// (/api/v1). Routes live in the hash: #/login?next=..., #/dashboard/<code>.
// The token is kept in sessionStorage; a 401 sends the user to the login
// page with the route to come back to, a 403 shows the access-denied page.
"use strict";

const TEXT = {
  zh: {
    title: "志愿服务管理平台", logout: "退出", login: "登录", username: "账号",
    password: "密码", expired: "登录已过期，请重新登录", badLogin: "账号或密码错误",
    denied: "无权访问", deniedText: "该区划不在您的管辖范围内。", back: "返回我的看板",
    children: "下级单位", export: "导出", year: "年度",
    volunteers_registered: "注册志愿者", volunteers_verified: "已认证志愿者",
    organisations: "组织与队伍", projects: "发布项目", hours_year: "本年服务时长（小时）",
    hours_total: "累计服务时长（小时）", tonnes: "回收（吨）", bins_deployed: "在用回收箱",
    stars: "星级志愿者", awards: "表彰", code: "区划代码", name: "名称",
    hours_by_month: "本年每月服务时长", hours_by_field: "各服务领域时长",
    tonnes_by_child: "各下级单位回收吨数", stars_chart: "星级分布", loading: "加载中…",
    failed: "加载失败", lang: "English", noData: "暂无数据", unavailableChart: "暂不可用",
    dashboard: "数据看板", importVolunteers: "批量导入志愿者", chooseFile: "选择 CSV 文件",
    start: "开始导入", imported: "已导入", failedRows: "失败", row: "行", field: "字段",
    rule: "规则", message: "原因", importHelp: "表头：姓名,身份证号,手机号,区划代码,服务领域（多个领域用 ; 分隔）。正确的行会保存，错误的行在下方列出。",
    allGood: "全部导入成功", hoursQueue: "时长审核", approve: "通过", reject: "驳回",
    rejectReason: "驳回原因", volunteer: "志愿者编号", content: "服务内容", started: "开始时间",
    hours: "时长（小时）", division: "区划", none: "没有待审核的记录", actions: "操作",
    importHours: "批量补录时长", template: "下载模板", importNav: "批量导入", noticeNav: "评选公示",
    importHoursHelp: "表头：志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因。时间写作 2026-11-01 09:00（北京时间）；每行作为补录时长进入审核，时长不能超过活动时长。重复上传同一文件不会重复记录。",
  },
  en: {
    title: "Zhiyuan volunteer service", logout: "Log out", login: "Log in",
    username: "Username", password: "Password", expired: "Your session expired; please log in again",
    badLogin: "Wrong username or password", denied: "Access denied",
    deniedText: "This division lies outside your jurisdiction.", back: "Back to my dashboard",
    children: "Units below", export: "Export", year: "Year",
    volunteers_registered: "Registered volunteers", volunteers_verified: "Verified volunteers",
    organisations: "Organisations and teams", projects: "Projects published",
    hours_year: "Service hours this year", hours_total: "Service hours in total",
    tonnes: "Recycled (tonnes)", bins_deployed: "Bins in service", stars: "Star volunteers",
    awards: "Awards", code: "Code", name: "Name", hours_by_month: "Service hours per month",
    hours_by_field: "Hours by service field", tonnes_by_child: "Tonnes by unit",
    stars_chart: "Star ratings", loading: "Loading…", failed: "Could not load", lang: "中文", unavailableChart: "Unavailable for now",
    noData: "No data yet", dashboard: "Dashboard", importVolunteers: "Import volunteers",
    chooseFile: "Choose a CSV file", start: "Import", imported: "Imported", failedRows: "Failed",
    row: "Row", field: "Field", rule: "Rule", message: "Reason",
    importHelp: "Header: name,id_number,phone,home_division_code,service_fields (fields separated by ;). Good rows are kept; bad rows are listed below.",
    allGood: "Every row was imported", hoursQueue: "Hours review", approve: "Approve",
    reject: "Reject", rejectReason: "Why is it rejected?", volunteer: "Volunteer no.",
    content: "Service", started: "Started", hours: "Hours", division: "Division",
    none: "Nothing awaits review", actions: "Actions",
    importHours: "Import hour records", template: "Download a template", importNav: "Import", noticeNav: "Public notices",
    importHoursHelp: "Header: volunteer_number,division_code,organisation_name,service_field,content,session_start,session_end,hours,reason. Times as 2026-11-01 09:00 (China time); each row is recorded as honour hours awaiting review, never more than the session lasted. Uploading the same file again records nothing twice.",
  },
};
const FIGURES = ["volunteers_registered", "volunteers_verified", "organisations", "projects",
  "hours_year", "hours_total", "tonnes", "bins_deployed", "stars", "awards"];

let lang = localStorage.getItem("zy.lang") || "zh";
const t = (key) => (TEXT[lang][key] ?? key);
const locale = () => (lang === "zh" ? "zh-CN" : "en-GB");
const num = (v) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(v);
const view = () => document.getElementById("view");
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
      const me = await (await api("/me")).json();
      const reader = (me.roles || []).some((role) => ROLE_GROUPS.readers.includes(role));
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
  const when = (v) => new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Shanghai" }).format(new Date(v));
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
    const me = await (await api("/me")).json();
    who.textContent = `${me.username} · ${me.scope_code}`;
    logout.hidden = false;
    // Links to pages the user's roles cannot open are hidden (the services
    // refuse them anyway; this only spares the user a dead end).
    const roles = new Set(me.roles || []);
    document.querySelectorAll("nav.links a[data-roles]").forEach((a) => {
      a.hidden = !ROLE_GROUPS[a.dataset.roles].some((r) => roles.has(r));
    });
  } catch (err) { who.textContent = ""; }
}

// The services' role groups (services/common/roles.py).
const ROLE_GROUPS = {
  managers: ["operator", "province_admin", "tenant_admin", "org_leader"],
  readers: ["operator", "province_admin", "tenant_admin", "org_leader", "reviewer"],
};

function route() {
  document.documentElement.lang = locale();
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.getElementById("lang").textContent = t("lang");
  const [path, query] = (location.hash.slice(1) || "/dashboard").split("?");
  const params = new URLSearchParams(query || "");
  if (path === "/login" || !sessionStorage.getItem("zy.token")) {
    renderWho();
    return renderLogin(path === "/login" ? params : new URLSearchParams(location.hash ? { next: location.hash } : {}));
  }
  renderWho();
  return Promise.resolve(renderPage(path, params)).then(restoreDraft);
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

// Writes an API error into `node` as "field: message" in the current
// language, with the field and the rule in data-field / data-rule.
function showError(node, err) {
  const e = err?.body?.error;
  const message = e ? (lang === "zh" ? e.message_zh : e.message_en) : `${t("failed")}: ${err?.message || err}`;
  node.textContent = e?.field ? `${e.field}: ${message}` : message;
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
// here: zy.pages["/volunteers"] = (rest, params) => ...; zy.text(zh, en).
const PAGES = {};
window.zy = {
  api, el, t, num, go, locale, renderDenied, pages: PAGES, view,
  get: getJson, post: postJson, uuid, showError, clearError, allPages, serviceFields, fieldName,
  lang: () => lang,
  text: (zh, en) => { Object.assign(TEXT.zh, zh); Object.assign(TEXT.en, en); },
};
document.addEventListener("DOMContentLoaded", route);
