// The helpers every page of the phone app shares: words in two languages,
// elements, the API with the volunteer's token, errors shown by the field's
// label, China-time dates and the service fields' names. Pages import what
// they need from here; the shell (app.js) imports the pages and routes.
//
// Words: each page keeps its own in <page>.text.js ({ zh, en }, the same keys
// in both: tests/unit/test_mobile_i18n.py) and adds them with words(prefix,
// dictionary). The request fields' labels an API error names ("field":
// "id_number") and the division levels' names are the console's own
// dictionaries (console/fields.text.js, console/divisions.text.js), loaded as
// they are rather than copied: see loadShared().

const TEXT = { zh: {}, en: {} };
let language = localStorage.getItem("zy.lang") || "zh";

export const lang = () => language;
export function setLang(value) {
  language = value;
  localStorage.setItem("zy.lang", value);
}
export const t = (key) => TEXT[language][key] ?? TEXT.zh[key] ?? key;
export const locale = () => (language === "zh" ? "zh-CN" : "en-GB");
export const colon = () => (language === "zh" ? "：" : ": ");

// A page's words: words("find", { zh: {...}, en: {...} }) adds "find.title"
// and so on and returns the page's own t (falling back to the shell's key).
export function words(prefix, dictionary) {
  for (const l of ["zh", "en"]) {
    for (const [k, v] of Object.entries(dictionary[l])) TEXT[l][prefix ? `${prefix}.${k}` : k] = v;
  }
  return (k) => {
    const v = t(`${prefix}.${k}`);
    return v === `${prefix}.${k}` ? t(k) : v;
  };
}

// The console's dictionaries are classic scripts calling
// window.zy.dictionary(prefix, words); this page gives them that one call.
const SHARED = ["../console/fields.text.js", "../console/divisions.text.js"];
export function loadShared() {
  window.zy = { dictionary: (prefix, dictionary) => { words(prefix, dictionary); } };
  return Promise.all(SHARED.map((src) => new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = src;
    // Without them an error names the field by its form label: still usable.
    script.onload = resolve;
    script.onerror = resolve;
    document.head.append(script);
  })));
}

export const view = () => document.getElementById("view");

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "on") Object.entries(v).forEach(([e, f]) => node.addEventListener(e, f));
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  children.flat(Infinity).forEach((c) => {
    if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : document.createTextNode(c));
  });
  return node;
}

export const enc = encodeURIComponent;

// A random UUID (v4) for idempotency keys; crypto.randomUUID needs a secure
// context (https or localhost), getRandomValues does not. (The console's.)
export function uuid() {
  if (window.crypto?.randomUUID && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// -- the API ------------------------------------------------------------------

const TOKEN = "zy.m.token";
export const token = () => sessionStorage.getItem(TOKEN);
export const setToken = (value) => (value ? sessionStorage.setItem(TOKEN, value) : sessionStorage.removeItem(TOKEN));

export class HttpError extends Error {
  constructor(status, body) { super(`HTTP ${status}`); this.status = status; this.body = body; }
}

export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new Event("hashchange"));
  else location.hash = hash;
}

// A 401 on a signed-in call means the token expired: back to sign-in, then
// to the page the volunteer was on.
export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token()) headers.authorization = `Bearer ${token()}`;
  const response = await fetch(`/api/v1${path}`, { ...options, headers });
  if (response.status === 401 && token() && !path.startsWith("/login")) {
    setToken(null);
    if (!location.hash.startsWith("#/signin")) go(`#/signin?next=${enc(location.hash)}&expired=1`);
  }
  if (!response.ok) throw new HttpError(response.status, await response.json().catch(() => null));
  return response;
}
export const get = async (path) => (await api(path)).json();
export const post = async (path, body) => (await api(path, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}),
})).json();
export const query = (params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== undefined && v !== null));
  return q.toString() ? `?${q}` : "";
};

// -- errors -------------------------------------------------------------------

// The control in `form` carrying the field an error names: by its key, or
// by the key without an index (skills[2] is the skills input).
const controlOf = (key, form) => form?.querySelector(`[data-field="${CSS.escape(key)}"]`)
  || form?.querySelector(`[data-field="${CSS.escape(key.replace(/\[\d+\]/g, ""))}"]`);

// The label of the field an error names, in the current language: the
// label shown next to its control in `form` (or the control's data-label),
// else the console's "field.*" entry, else the key itself; an index is
// shown as the position after the label.
export function fieldLabel(key, form) {
  const index = key.match(/\[(\d+)\]/);
  const at = index ? ` #${Number(index[1]) + 1}` : "";
  const control = controlOf(key, form);
  const shown = control?.dataset.label || control?.querySelector(".label")?.textContent;
  if (shown) return `${shown.trim()}${at}`;
  const known = TEXT[language][`field.${key.replace(/\[\d+\]/g, "")}`];
  return known ? `${known}${at}` : key;
}

// An API error as text: "label：message" in the current language.
export function errorText(err, form) {
  const e = err?.body?.error;
  if (!e && err?.status === 429) return t("tooMany");
  if (!e) return err?.status ? `${t("failed")} (${err.status})` : t("offline");
  const message = language === "zh" ? e.message_zh : e.message_en;
  return e.field ? `${fieldLabel(e.field, form)}${colon()}${message}` : message;
}

// Shows an API error next to the control of the field it names when `form`
// has one (its .field-error), else in `box`; with the key and rule in
// data-field / data-rule.
export function showError(box, err, form = null) {
  const e = err?.body?.error;
  const holder = e?.field && controlOf(e.field, form)?.querySelector(".field-error");
  const node = holder || box;
  node.textContent = errorText(err, form);
  node.dataset.field = e?.field || "";
  node.dataset.rule = e?.rule || "";
  node.hidden = false;
  node.scrollIntoView?.({ block: "nearest" });
}
export function clearErrors(...nodes) {
  for (const node of nodes) {
    node?.querySelectorAll?.(".field-error").forEach((n) => { n.textContent = ""; n.hidden = true; });
    if (node?.classList?.contains("error") || node?.classList?.contains("field-error")) {
      node.textContent = ""; node.hidden = true;
    }
  }
}
export const errorBox = (testid) => el("p", { class: "error", "data-testid": testid, role: "alert", hidden: true });
// Renders `err` into the view, unless it was a 401 (sign-in is on its way).
export function failed(err, testid = "page-error") {
  if (err?.status === 401) return;
  const box = errorBox(testid);
  showError(box, err);
  view().replaceChildren(el("section", { class: "card" }, box));
}

// -- dates, numbers, names ------------------------------------------------------

const STYLES = {
  minutes: { dateStyle: "medium", timeStyle: "short" },
  day: { dateStyle: "medium" },
  time: { timeStyle: "short" },
  month: { year: "numeric", month: "long" },
};
// A moment, a China day "YYYY-MM-DD" or a month "YYYY-MM", in China time.
export function when(v, style = "minutes") {
  if (!v) return "";
  const moment = /^\d{4}-\d{2}$/.test(v) ? `${v}-15T12:00:00+08:00`
    : /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T12:00:00+08:00` : v;
  return new Intl.DateTimeFormat(locale(), { ...STYLES[style], timeZone: "Asia/Shanghai" }).format(new Date(moment));
}
// A session's start and end: the end's time only when on the same China day.
export function span(start, end) {
  if (!start) return "";
  const sameDay = end && when(start, "day") === when(end, "day");
  return `${when(start)} – ${sameDay ? when(end, "time") : when(end)}`;
}
export const num = (v) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(Number(v) || 0);
export const hours = (v) => `${num(v)} ${t("hoursUnit")}`;
// Today in China, YYYY-MM-DD.
export const chinaToday = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());

// The service fields (GET /service-fields, public), fetched once.
let fieldList = null;
export async function serviceFields() {
  if (!fieldList) fieldList = (await get("/service-fields")).fields || [];
  return fieldList;
}
export function fieldName(code) {
  const f = (fieldList || []).find((x) => x.code === code);
  return f ? (language === "zh" ? f.name_zh : f.name_en) : code || "";
}

// The volunteer signed in (GET /me), fetched once per token.
let me = null;
// A token signed in before a transfer was accepted still carries the old
// home, where the volunteer no longer is: GET /me answers 404. The token is
// then exchanged once for one of the account's current home (POST
// /me/refresh) and "me" asked again; a refused refresh (401) signs out.
export async function whoAmI() {
  if (!me || me.token !== token()) {
    const body = await meRefreshed();
    me = { token: token(), body };
  }
  return me.body;
}
async function meRefreshed() {
  try {
    return await get("/me");
  } catch (err) {
    if (err.status !== 404 || !token()) throw err;
    const fresh = await post("/me/refresh", {});
    setToken(fresh.access_token);
    return get("/me");
  }
}
export const forget = () => { me = null; };

// A labelled control: <label data-field=key><span.label/>control<small.field-error/></label>.
export function labelled(key, text, control, hint = "") {
  return el("label", { class: "field", "data-field": key }, el("span", { class: "label", text }), control,
    hint ? el("small", { class: "hint", text: hint }) : "",
    el("small", { class: "field-error error", "data-testid": `error-${key}`, role: "alert", hidden: true }));
}
