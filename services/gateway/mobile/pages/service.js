// My service: totals this year and overall and the time-bank balance
// (GET /me/totals), stars with the progress to the next and honours
// (GET /me/stars), the hour records with their status (GET /me/records,
// filtered by status) and an objection on a record: a correction request
// with a reason that lands in the office's queue
// (POST /me/records/{id}/objections); each record's evaluation (评价) by
// the organiser, as GET /me/records returns it; and the complaints about
// the volunteer (GET /me/complaints), each answered once
// (POST /me/complaints/{id}/reply) and showing the office's outcome. Each
// part loads on its own: one that fails says so in its own card.

import {
  clearErrors, el, enc, errorBox, get, go, hours, labelled, num, post, query, showError, t, view, when,
  words,
} from "../kit.js";
import text from "./service.text.js";

const T = words("sv", text);
const STATUSES = ["RECORD_STATUS_PENDING", "RECORD_STATUS_APPROVED", "RECORD_STATUS_REJECTED", "RECORD_STATUS_REVERSED"];
const BADGE = { RECORD_STATUS_APPROVED: "good", RECORD_STATUS_REJECTED: "grey", RECORD_STATUS_REVERSED: "grey" };
const OBJECTION_BADGE = { OBJECTION_STATUS_CORRECTED: "good", OBJECTION_STATUS_DISMISSED: "grey" };
const COMPLAINT_BADGE = { COMPLAINT_STATUS_DISMISSED: "good", COMPLAINT_STATUS_UPHELD: "grey" };

const card = (testid, title, ...children) => el("section", { class: "card", "data-testid": testid },
  title ? el("h2", { text: title }) : "", ...children);
const figure = (key, value, testid) => el("div", { class: "figure", "data-testid": testid },
  el("div", { class: "v", text: value }), el("div", { class: "k", text: T(key) }));

function totalsCard(got) {
  return card("totals", "",
    el("div", { class: "figures" },
      figure("thisYear", hours(got.hours_this_year), "hours-this-year"),
      figure("total", hours(got.hours_total), "hours-total"),
      figure("pending", hours(got.pending_hours), "pending-hours"),
      figure("records", num(got.records_total), "records-total"),
      figure("timeBank", hours(got.time_bank_balance), "time-bank")));
}

function starsCard(got) {
  const n = Number(got.stars) || 0;
  const stars = el("div", { class: "stars", "data-testid": "stars", "data-stars": n, "aria-label": T("starsOf").replace("{n}", n) },
    [1, 2, 3, 4, 5].map((i) => el("span", { class: i <= n ? "" : "off", text: "★" })));
  const next = Number(got.next_star) || 0;
  const toNext = next
    ? [el("progress", { "data-testid": "star-progress", max: "1", value: String(Math.max(0, Math.min(1, Number(got.progress) || 0))) }),
      el("p", { class: "muted", "data-testid": "to-next", text: T("toNext").replace("{h}", num(got.hours_to_next)).replace("{n}", next) })]
    : [el("p", { class: "muted", "data-testid": "to-next", text: T("topStar") })];
  const honours = got.honours || [];
  return card("star-card", T("stars"), stars,
    el("p", { class: "muted", text: T("counted").replace("{h}", num(got.hours_counted)) }), ...toNext,
    got.pending_request ? el("p", { class: "hint", "data-testid": "star-pending", text: T("starPending") }) : "",
    el("h3", { class: "spaced", text: T("honours") }),
    honours.length
      ? el("ul", { class: "list", "data-testid": "honours" }, honours.map((h) => el("li", { "data-testid": "honour" },
        el("strong", { text: h.round_title }), " ", h.level ? el("span", { class: "badge", text: t(`div.${h.level}`) }) : "",
        el("p", { class: "muted", text: [h.division_name, when(h.awarded_at, "day")].filter(Boolean).join(" · ") }))))
      : el("p", { class: "muted", "data-testid": "no-honours", text: T("noHonours") }));
}

function objectionForm(record) {
  const box = errorBox("objection-error");
  const reason = el("textarea", { name: "reason", "data-testid": "objection-reason", maxlength: "500" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "objection-submit", text: T("sendObjection") });
  const form = el("form", { "data-testid": "objection-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      const got = await post(`/me/records/${enc(record.id)}/objections`, { reason: reason.value.trim() });
      form.replaceWith(el("p", { class: "notice", "data-testid": "objection-sent", role: "status", text: T("objectionSent") }),
        objectionNote(got.objection || { status: "OBJECTION_STATUS_OPEN", reason: reason.value.trim() }));
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { submit.disabled = false; }
  } } }, labelled("reason", T("reason"), reason, T("reasonHint")), submit, box);
  return form;
}

// A record's latest objection and the office's answer; while one is open
// no other can be filed (one open objection a record).
function objectionNote(o) {
  return el("div", { class: "callout", "data-testid": "objection", "data-status": o.status },
    el("span", { class: `badge ${OBJECTION_BADGE[o.status] ?? ""}`, "data-testid": "objection-status", text: T(o.status) }),
    el("p", { class: "muted", text: `${T("yourReason")}${o.reason}` }),
    o.resolution_note ? el("p", { "data-testid": "objection-answer", text: `${T("answer")}${o.resolution_note}` }) : "");
}

// The organiser's evaluation of a record: score 1-5 with its grade, and
// the comment.
function evaluationNote(e) {
  return el("div", { class: "callout", "data-testid": "evaluation", "data-score": String(e.score) },
    el("span", { class: `badge ${e.poor ? "grey" : "good"}`, "data-testid": "evaluation-grade",
      text: `${T("evaluation")}${e.score} · ${T(`grade${e.score}`)}` }),
    el("p", { class: "muted", "data-testid": "evaluation-comment", text: e.comment }));
}

function recordItem(r, objection, evaluation) {
  const shown = r.status === "RECORD_STATUS_APPROVED" ? r.effective_hours ?? r.hours : r.hours;
  const item = el("li", { "data-testid": "record", "data-id": r.id, "data-status": r.status },
    el("div", { class: "row" }, el("strong", { text: r.content || r.organisation_name || "" }),
      el("span", { "data-testid": "record-hours", text: hours(shown) })),
    el("p", { class: "muted", text: [when(r.started_at), r.organisation_name].filter(Boolean).join(" · ") }),
    el("span", { class: `badge ${BADGE[r.status] ?? ""}`, "data-testid": "record-status", text: T(r.status) }),
    r.status_reason ? el("p", { class: "muted", text: `${T("why")}${r.status_reason}` }) : "",
    r.note ? el("p", { class: "muted", text: r.note }) : "",
    evaluation ? evaluationNote(evaluation) : "",
    objection ? objectionNote(objection) : "");
  if (objection?.status === "OBJECTION_STATUS_OPEN") return item;
  const open = el("button", { type: "button", "data-testid": "objection-open", text: T("object"), on: { click: () => {
    open.replaceWith(objectionForm(r));
  } } });
  item.append(el("div", { class: "actions" }, open));
  return item;
}

async function recordsCard(params) {
  const status = params.get("status") || "";
  const box = errorBox("records-error");
  const list = el("ul", { class: "list", "data-testid": "records" });
  const more = el("button", { type: "button", "data-testid": "more-records", text: t("more"), hidden: true });
  const filter = el("select", { name: "status", "data-testid": "record-filter", "aria-label": T("status"),
    on: { change: () => go(`#/service${query({ status: filter.value })}`) } },
  el("option", { value: "", text: T("allStatuses") }), STATUSES.map((s) => el("option", { value: s, text: T(s) })));
  filter.value = status;
  let pageToken = "";
  // Each record's latest objection (the list is newest first).
  const latest = new Map();
  async function load() {
    more.disabled = true;
    try {
      const [got, mine] = await Promise.all([
        get(`/me/records${query({ status, page_size: 20, page_token: pageToken })}`),
        // Without them the records still show; a second objection is refused.
        pageToken ? null : get("/me/objections").catch((err) => { if (err.status === 401) throw err; return null; }),
      ]);
      (mine?.objections || []).forEach((o) => { if (!latest.has(o.record_id)) latest.set(o.record_id, o); });
      const rated = new Map((got.evaluations || []).map((e) => [e.record_id, e]));
      list.append(...(got.records || []).map((r) => recordItem(r, latest.get(r.id), rated.get(r.id))));
      pageToken = got.page?.next_page_token || "";
      more.hidden = !pageToken;
      if (!list.children.length) list.append(el("li", { class: "empty", "data-testid": "no-records", text: T("noRecords") }));
    } catch (err) { if (err.status !== 401) showError(box, err); } finally { more.disabled = false; }
  }
  more.addEventListener("click", load);
  const section = card("records-card", T("records"), filter, box, list, more);
  await load();
  return section;
}

function replyForm(c, done) {
  const box = errorBox("complaint-reply-error");
  const reply = el("textarea", { name: "reply", "data-testid": "complaint-reply-text", maxlength: "1000" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "complaint-reply-submit", text: T("sendReply") });
  const form = el("form", { "data-testid": "complaint-reply-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      const got = await post(`/me/complaints/${enc(c.id)}/reply`, { reply: reply.value.trim() });
      done(got.complaint || { ...c, status: "COMPLAINT_STATUS_REPLIED", reply: reply.value.trim() });
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { submit.disabled = false; }
  } } }, labelled("reply", T("yourReply"), reply, T("replyHint")), submit, box);
  return form;
}

// One complaint about the volunteer: what was said, its reply (or the form
// to give it, once), and the office's outcome.
function complaintItem(c) {
  const item = el("li", { "data-testid": "complaint", "data-id": c.id, "data-status": c.status });
  const fill = (x) => item.replaceChildren(
    el("span", { class: `badge ${COMPLAINT_BADGE[x.status] ?? ""}`, "data-testid": "complaint-status", text: T(x.status) }),
    el("p", { text: x.text }),
    el("p", { class: "muted", text: when(x.filed_at) }),
    x.reply ? el("p", { class: "muted", "data-testid": "complaint-reply", text: `${T("replyPrefix")}${x.reply}` }) : "",
    x.decision_note ? el("p", { "data-testid": "complaint-outcome", text: `${T("answer")}${x.decision_note}` }) : "",
    x.status === "COMPLAINT_STATUS_OPEN" ? replyForm(x, (got) => {
      item.dataset.status = got.status;
      fill(got);
      item.append(el("p", { class: "notice", "data-testid": "complaint-replied", role: "status", text: T("replySent") }));
    }) : "");
  fill(c);
  return item;
}

async function complaintsCard() {
  const got = await get("/me/complaints");
  const items = got.complaints || [];
  return card("complaints-card", T("complaints"),
    items.length ? el("ul", { class: "list", "data-testid": "complaints" }, items.map(complaintItem))
      : el("p", { class: "muted", "data-testid": "no-complaints", text: T("noComplaints") }));
}

async function renderService(rest, params) {
  const slot = (testid) => el("div", { "data-testid": `${testid}-slot` }, el("p", { class: "muted", text: t("loading") }));
  const totals = slot("totals");
  const stars = slot("stars");
  const records = slot("records");
  const complaints = slot("complaints");
  view().replaceChildren(el("h1", { text: T("title") }), totals, stars, records, complaints);
  const fill = async (node, make) => {
    try { node.replaceChildren(await make()); } catch (err) {
      if (err.status === 401) return;
      const box = errorBox(`${node.dataset.testid}-error`);
      showError(box, err);
      node.replaceChildren(card("", "", box));
    }
  };
  await Promise.all([
    fill(totals, async () => totalsCard(await get("/me/totals"))),
    fill(stars, async () => starsCard(await get("/me/stars"))),
    fill(records, () => recordsCard(params)),
    fill(complaints, () => complaintsCard()),
  ]);
}

export const routes = { "/service": { render: renderService, tab: "service" } };
