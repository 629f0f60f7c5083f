// Zhiyuan web console: a small single-page app over the gateway's own API
// (/api/v1). Routes live in the hash: #/login?next=..., #/dashboard/<code>.
// The token is kept in sessionStorage; a 401 sends the user to the login
// page with the route to come back to, a 403 shows the access-denied page.
//
// This file is the shell: the helpers every page uses (window.zy), login,
// the title bar and the router. Each screen is a module under pages/
// (dashboard.js, import.js, hours.js, projects*.js, records*.js, ...) that
// registers itself in zy.pages; its words are in pages/<page>.text.js;
// styles in app.css.
"use strict";

// Filled by text.js and pages/*.text.js (zy.dictionary).
const TEXT = { zh: {}, en: {} };

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

async function renderWho() {
  const who = document.getElementById("who");
  const logout = document.getElementById("logout");
  // Logged out (the login page, the public verify page) the bar carries no
  // navigation: every link would only lead back to the login form.
  const nav = document.querySelector("nav.links");
  const menu = document.getElementById("menu");
  if (!sessionStorage.getItem("zy.token")) {
    who.textContent = ""; logout.hidden = true; nav.hidden = true; menu.hidden = true; return;
  }
  try {
    const [me] = await Promise.all([getJson("/me"), loadRoles()]);
    who.textContent = `${me.username} · ${me.scope_code}`;
    logout.hidden = false;
    nav.hidden = false;
    menu.hidden = false;
    // Links to pages the user's roles cannot open are hidden (the services
    // refuse them anyway; this only spares the user a dead end).
    // A national account (scope CN) reads the dashboard only: every other
    // page would be refused it (scope.national).
    const national = me.scope_code === "CN";
    document.querySelectorAll("nav.links a[data-roles]").forEach((a) => {
      a.hidden = !inGroup(me, a.dataset.roles) || (national && a.getAttribute("href") !== "#/dashboard");
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

// On a phone the navigation, who is logged in and log out fold behind the
// menu button (app.css shows the button only there); a new page folds them.
function foldMenu() { document.getElementById("menu").setAttribute("aria-expanded", "false"); }

function route() {
  foldMenu();
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
  const page = Object.keys(PAGES).find((p) => path === p || path.startsWith(`${p}/`));
  if (page) return PAGES[page](path.slice(page.length + 1), params);
  return PAGES["/dashboard"]("", params);
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("zy.lang", lang);
  route();
});
document.getElementById("menu").addEventListener("click", (e) => {
  e.currentTarget.setAttribute("aria-expanded", String(e.currentTarget.getAttribute("aria-expanded") !== "true"));
});
// The link to the page already shown changes no hash: it folds the menu itself.
document.querySelector("nav.links").addEventListener("click", (e) => { if (e.target.closest("a")) foldMenu(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") foldMenu(); });
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
