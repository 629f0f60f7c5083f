// For a resident: 爱为宝 pickups booked for oneself (POST /me/bookings, at the
// home division) and followed through requested → assigned → collected with
// the collected weight (GET /me/bookings, GET /me/bookings/{id}); and the
// public notices of award rounds in one's area (GET /commendation/rounds,
// GET /commendation/rounds/{id}/notice) with the objection form
// (POST /commendation/nominations/{id}/objections).

import {
  clearErrors, el, enc, errorBox, failed, get, labelled, num, post, showError, t as shellT, uuid, view, when, words,
} from "../kit.js";
import text from "./resident.text.js";

const T = words("res", text);
const STEPS = ["BOOKING_STATUS_REQUESTED", "BOOKING_STATUS_ASSIGNED", "BOOKING_STATUS_COLLECTED"];
const ROUND_BADGE = { ROUND_STATUS_NOTICE: "good", ROUND_STATUS_FINALIZED: "grey" };

const loading = () => view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
const fill = (key, values) => Object.entries(values).reduce((s, [k, v]) => s.replace(`{${k}}`, v), T(key));

// -- my bookings ----------------------------------------------------------------------

// requested → assigned → collected, each step done or not; a cancelled
// booking shows its badge and reason instead.
function steps(b) {
  if (b.status === "BOOKING_STATUS_CANCELLED") {
    return el("div", {}, el("span", { class: "badge grey", "data-testid": "booking-status", "data-status": b.status, text: T("cancelled") }),
      b.cancel_reason ? el("p", { class: "muted", text: `${T("cancelReason")}${b.cancel_reason}` }) : "");
  }
  const reached = STEPS.indexOf(b.status);
  return el("ol", { class: "steps", "data-testid": "booking-status", "data-status": b.status },
    STEPS.map((s, i) => el("li", { class: i <= reached ? "done" : "", "aria-current": i === reached ? "step" : false, text: T(s) })));
}

const collected = (w) => (Number(w?.textiles_kg) || 0) + (Number(w?.books_kg) || 0) + (Number(w?.other_kg) || 0);

function bookingItem(b) {
  const done = b.status === "BOOKING_STATUS_COLLECTED";
  return el("li", { "data-testid": "booking", "data-id": b.id, "data-status": b.status },
    el("div", { class: "row" }, el("strong", { text: b.note || T("newTitle") }),
      b.estimated_kg ? el("span", { class: "muted", text: fill("estimated", { n: num(b.estimated_kg) }) }) : ""),
    steps(b),
    el("p", { class: "muted", text: `${T("window")}${when(b.window_start)} – ${when(b.window_end)}` }),
    el("p", { class: "muted", text: [b.address, b.contact_name, b.contact_phone].filter(Boolean).join(" · ") }),
    b.organisation_name ? el("p", { class: "muted", text: `${T("team")}${b.organisation_name}` }) : "",
    done ? el("p", { class: "notice", "data-testid": "booking-weight", text: fill("collectedKg", { n: num(collected(b.weights)) }) }) : "",
    done && b.collected_on ? el("p", { class: "muted", text: `${T("collectedOn")}${when(b.collected_on, "day")}` }) : "");
}

async function renderBookings(rest, params) {
  if (rest === "new") return renderBook();
  loading();
  let got;
  try { got = await get("/me/bookings?page_size=50"); } catch (err) { return failed(err); }
  const list = got.bookings || [];
  const notice = params.get("booked")
    ? el("p", { class: "notice", "data-testid": "booked", role: "status", text: T("booked") }) : "";
  view().replaceChildren(
    el("section", { class: "card" }, el("h1", { text: T("bookings") }), el("p", { class: "hint", text: T("intro") }), notice,
      el("div", { class: "actions" }, el("a", { class: "button primary", href: "#/bookings/new", "data-testid": "to-book", text: T("book") }),
        el("a", { class: "button", href: "#/notices", "data-testid": "to-notices", text: T("toNotices") }))),
    el("section", { class: "card", "data-testid": "bookings" },
      list.length ? el("ul", { class: "list" }, list.map(bookingItem))
        : el("p", { class: "empty", "data-testid": "no-bookings", text: T("noBookings") })));
}

// -- book a pickup --------------------------------------------------------------------

// A datetime-local value read as China time, in RFC 3339; "" stays "" (the
// service names the field that is missing).
const chinaMoment = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : "");

function renderBook() {
  const box = errorBox("book-error");
  const input = (name, attrs = {}) => el("input", { name, "data-testid": `book-${name}`, ...attrs });
  const name = input("contact_name", { autocomplete: "name", maxlength: "50" });
  const phone = input("contact_phone", { type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: "11" });
  const address = el("textarea", { name: "address", "data-testid": "book-address", autocomplete: "street-address", maxlength: "200" });
  const start = input("window_start", { type: "datetime-local" });
  const end = input("window_end", { type: "datetime-local" });
  const items = el("textarea", { name: "items", "data-testid": "book-items", maxlength: "500" });
  const estimate = input("estimated_kg", { type: "number", inputmode: "decimal", min: "0", step: "0.1" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "book-submit", text: T("submit") });
  // One key per form shown: a double tap books once.
  const requestId = uuid();
  const form = el("form", { "data-testid": "book-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      await post("/me/bookings", {
        request_id: requestId, contact_name: name.value.trim(), contact_phone: phone.value.trim(),
        address: address.value.trim(), window_start: chinaMoment(start.value), window_end: chinaMoment(end.value),
        items: items.value.trim(), estimated_kg: estimate.value === "" ? 0 : Number(estimate.value),
      });
      location.hash = "#/bookings?booked=1";
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { submit.disabled = false; }
  } } },
  labelled("contact_name", T("contactName"), name), labelled("contact_phone", T("contactPhone"), phone),
  labelled("address", T("address"), address, T("addressHint")),
  labelled("window_start", T("windowStart"), start, T("windowHint")), labelled("window_end", T("windowEnd"), end),
  labelled("items", T("items"), items, T("itemsHint")), labelled("estimated_kg", T("estimate"), estimate),
  submit, box);
  view().replaceChildren(el("section", { class: "card" }, el("h1", { text: T("newTitle") }), form),
    el("a", { href: "#/bookings", text: shellT("back") }));
}

// -- award notices ----------------------------------------------------------------------

function roundCard(r) {
  const running = r.status === "ROUND_STATUS_NOTICE";
  return el("li", { "data-testid": "round", "data-id": r.id, "data-status": r.status },
    el("strong", { text: r.title }),
    el("div", {}, el("span", { class: `badge ${ROUND_BADGE[r.status] ?? ""}`, text: T(r.status) }),
      el("span", { class: "badge grey", text: String(r.year || "") })),
    running && r.notice_ends_on ? el("p", { class: "muted", text: fill("noticeUntil", { d: when(r.notice_ends_on, "day") }) }) : "",
    running ? el("a", { class: "button", href: `#/notices/${enc(r.id)}`, "data-testid": "open-notice", text: T("openNotice") }) : "");
}

async function renderNotices(rest) {
  if (rest) return renderNotice(rest);
  loading();
  let got;
  try { got = await get("/commendation/rounds?page_size=50"); } catch (err) { return failed(err); }
  const rounds = got.rounds || [];
  view().replaceChildren(el("section", { class: "card" }, el("h1", { text: T("notices") }),
    el("p", { class: "hint", text: T("noticesIntro") }),
    rounds.length ? el("ul", { class: "list", "data-testid": "rounds" }, rounds.map(roundCard))
      : el("p", { class: "empty", "data-testid": "no-rounds", text: T("noRounds") })));
}

function objectionForm(entry) {
  const box = errorBox("objection-error");
  const content = el("textarea", { name: "content", "data-testid": "objection-content", maxlength: "2000" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "objection-submit", text: T("sendObjection") });
  const form = el("form", { "data-testid": "objection-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      await post(`/commendation/nominations/${enc(entry.nomination_id)}/objections`, { content: content.value.trim() });
      form.replaceWith(el("p", { class: "notice", "data-testid": "objection-sent", role: "status", text: T("objectionSent") }));
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { submit.disabled = false; }
  } } }, labelled("content", T("objection"), content, T("objectionHint")), submit, box);
  return form;
}

function entryItem(n) {
  const open = el("button", { type: "button", "data-testid": "objection-open", text: T("object"), on: { click: () => {
    open.replaceWith(objectionForm(n));
  } } });
  return el("li", { "data-testid": "notice-entry", "data-id": n.nomination_id },
    el("div", { class: "row" }, el("strong", { "data-testid": "nominee", text: n.nominee_name }),
      el("span", { class: "badge grey", text: T(n.category) })),
    n.unit_name ? el("p", { class: "muted", text: `${T("unit")}${n.unit_name}` }) : "",
    n.summary ? el("p", { class: "prose", "data-testid": "notice-summary", text: n.summary }) : "",
    n.notice_ends_on ? el("p", { class: "muted", text: fill("noticeUntil", { d: when(n.notice_ends_on, "day") }) }) : "",
    el("div", { class: "actions" }, open));
}

async function renderNotice(id) {
  loading();
  let got;
  try { got = await get(`/commendation/rounds/${enc(id)}/notice?page_size=100`); } catch (err) { return failed(err); }
  const r = got.round || {};
  const entries = got.entries || [];
  view().replaceChildren(el("section", { class: "card", "data-testid": "notice", "data-id": r.id },
    el("h1", { text: r.title }),
    el("span", { class: `badge ${ROUND_BADGE[r.status] ?? ""}`, text: T(r.status) }),
    r.notice_ends_on ? el("p", { class: "muted", text: fill("noticeUntil", { d: when(r.notice_ends_on, "day") }) }) : "",
    entries.length ? el("ul", { class: "list", "data-testid": "notice-entries" }, entries.map(entryItem))
      : el("p", { class: "empty", "data-testid": "no-entries", text: T("noEntries") })),
  el("a", { href: "#/notices", text: shellT("back") }));
}

export const routes = {
  "/bookings": { render: renderBookings, tab: "resident" },
  "/notices": { render: renderNotices, tab: "resident" },
};
