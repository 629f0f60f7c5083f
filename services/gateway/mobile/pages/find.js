// Find and join: the projects open to the volunteer (GET /me/projects, with
// the filters in the hash: #/find?service_field=&date=&near=), one project
// with its sessions and the volunteer's own sign-ups (sign up, withdraw,
// waitlist position), and "my sign-ups" (GET /me/sign-ups).

import {
  clearErrors, el, enc, errorBox, failed, fieldName, get, go, labelled, post, query, serviceFields, showError,
  span, t as shellT, view, when, whoAmI, words,
} from "../kit.js";
import { divisionPicker } from "../divisions.js";
import text from "./find.text.js";

const T = words("find", text);
const ACTIVE = ["SIGN_UP_STATUS_PENDING", "SIGN_UP_STATUS_CONFIRMED", "SIGN_UP_STATUS_WAITLISTED"];
const BADGE = { SIGN_UP_STATUS_CONFIRMED: "good", SIGN_UP_STATUS_WITHDRAWN: "grey", SIGN_UP_STATUS_REJECTED: "grey" };

const loading = () => view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));

function statusBadge(s) {
  const waiting = s.status === "SIGN_UP_STATUS_WAITLISTED" && s.waitlist_position
    ? ` · ${T("position").replace("{n}", s.waitlist_position)}` : "";
  return el("span", { class: `badge ${BADGE[s.status] ?? ""}`, "data-testid": "sign-up-status", "data-status": s.status,
    text: `${T(s.status)}${waiting}` });
}

// -- the list -----------------------------------------------------------------------

function filters(params) {
  const current = Object.fromEntries(["service_field", "date", "near"].map((k) => [k, params.get(k) || ""]));
  const apply = (change) => go(`#/find${query({ ...current, ...change })}`);
  const field = el("select", { name: "service_field", "data-testid": "filter-field", on: { change: () => apply({ service_field: field.value }) } },
    el("option", { value: "", text: T("anyField") }));
  serviceFields().then((list) => {
    field.append(...list.map((f) => el("option", { value: f.code, text: fieldName(f.code) })));
    field.value = current.service_field;
  }).catch(() => null);
  const date = el("input", { type: "date", name: "date", "data-testid": "filter-date", value: current.date,
    on: { change: () => apply({ date: date.value }) } });
  const near = divisionPicker("filter-near", { depth: 4, onChange: (code) => apply({ near: code }) });
  near.set(current.near);
  return el("details", { class: "card", "data-testid": "filters", open: Object.values(current).some(Boolean) },
    el("summary", { class: "summary", text: T("filters") }),
    el("div", { class: "filters" }, labelled("service_field", T("field"), field), labelled("date", T("date"), date),
      el("div", { class: "field wide" }, el("span", { class: "label", text: T("near") }), near,
        el("small", { class: "hint", text: T("nearHint") }))));
}

function projectCard(p) {
  const next = (p.sessions || []).find((s) => s.starts_at) || {};
  return el("a", { class: "card link", href: `#/find/${enc(p.id)}`, "data-testid": "project", "data-id": p.id },
    el("h3", { text: p.title }),
    el("div", {}, p.emergency ? el("span", { class: "badge", text: T("emergency") }) : "",
      p.service_field ? el("span", { class: "badge grey", text: fieldName(p.service_field) }) : ""),
    el("p", { class: "muted", text: [p.organisation_name, p.place].filter(Boolean).join(" · ") }),
    next.starts_at ? el("p", { class: "muted", text: span(next.starts_at, next.ends_at) }) : "");
}

async function renderList(params) {
  loading();
  const box = errorBox("find-error");
  const list = el("div", { "data-testid": "projects" });
  const more = el("button", { type: "button", "data-testid": "more", text: shellT("more"), hidden: true });
  const pending = el("p", { class: "card hint", "data-testid": "find-pending", text: T("pending"), hidden: true });
  const page = el("div", {}, el("h1", { text: T("title") }), pending, filters(params), box, list, more);
  // A volunteer awaiting verification may look but not yet sign up.
  whoAmI().then((me) => { pending.hidden = me.volunteer?.status !== "VOLUNTEER_STATUS_PENDING"; }).catch(() => null);
  const ask = Object.fromEntries(["service_field", "date", "near"].map((k) => [k, params.get(k) || ""]));
  let pageToken = "";
  async function load() {
    more.disabled = true;
    try {
      await serviceFields().catch(() => null);
      const got = await get(`/me/projects${query({ ...ask, page_size: 20, page_token: pageToken })}`);
      list.append(...(got.projects || []).map(projectCard));
      pageToken = got.page?.next_page_token || "";
      more.hidden = !pageToken;
      if (!list.children.length) list.append(el("p", { class: "empty", "data-testid": "projects-empty", text: T("noProjects") }));
      // What the list shows, for whoever waits for it (the tests).
      list.dataset.loaded = query(ask);
    } catch (err) {
      if (err.status !== 401) showError(box, err);
    } finally { more.disabled = false; }
  }
  more.addEventListener("click", load);
  view().replaceChildren(page);
  await load();
}

// -- one project --------------------------------------------------------------------

async function renderProject(id) {
  loading();
  let got;
  try { [got] = await Promise.all([get(`/me/projects/${enc(id)}`), serviceFields().catch(() => null)]); } catch (err) { return failed(err); }
  const p = got.project || {};
  const mine = got.my_sign_ups || [];
  const box = errorBox("project-error");
  const notice = el("p", { class: "notice", "data-testid": "project-notice", role: "status", hidden: true });

  async function act(path, done) {
    clearErrors(box);
    try {
      const r = await post(path);
      await renderProject(id);
      const n = view().querySelector("[data-testid=project-notice]");
      n.textContent = done(r.sign_up || {}); n.hidden = false;
    } catch (err) { if (err.status !== 401) showError(box, err); }
  }
  const sessionItem = (s) => {
    const own = mine.find((m) => m.session_id === s.id && ACTIVE.includes(m.status))
      || mine.find((m) => m.session_id === s.id);
    const full = s.capacity && s.confirmed >= s.capacity;
    const item = el("li", { "data-testid": "session", "data-id": s.id },
      el("div", { class: "row" }, el("strong", { text: span(s.starts_at, s.ends_at) })),
      el("p", { class: "muted", text: T("places").replace("{c}", s.confirmed || 0).replace("{n}", s.capacity || 0)
        + (s.waitlisted ? ` · ${T("waiting").replace("{n}", s.waitlisted)}` : "") }),
      own ? statusBadge(own) : "");
    const actions = el("div", { class: "actions" });
    if (own && ACTIVE.includes(own.status)) {
      actions.append(el("button", { type: "button", "data-testid": "withdraw", text: T("withdraw"),
        on: { click: () => act(`/me/sign-ups/${enc(own.id)}/withdraw`, () => T("withdrawn")) } }));
    } else {
      actions.append(el("button", { type: "button", class: "primary", "data-testid": "sign-up",
        text: full ? T("joinWaitlist") : T("signUp"),
        on: { click: () => act(`/me/sessions/${enc(s.id)}/sign-up`, (su) => signedText(su)) } }));
    }
    item.append(actions);
    return item;
  };
  const facts = [
    ["org", p.organisation_name], ["place", p.place], ["field", fieldName(p.service_field)],
    ["recruit", when(p.recruit_ends_at)],
    ["minAge", p.eligibility?.min_age ? String(p.eligibility.min_age) : ""],
  ].filter(([, v]) => v);
  view().replaceChildren(
    el("p", {}, el("a", { href: "#/find", text: `‹ ${shellT("back")}` })),
    el("section", { class: "card", "data-testid": "project-detail", "data-id": p.id },
      el("h1", { text: p.title }),
      p.emergency ? el("span", { class: "badge", text: T("emergency") }) : "",
      p.leader_approval ? el("span", { class: "badge grey", text: T("approval") }) : "",
      el("dl", { class: "facts" }, facts.map(([k, v]) => [el("dt", { text: T(k) }), el("dd", { text: v })])),
      p.description ? el("p", { class: "prose", text: p.description }) : ""),
    el("section", { class: "card" }, el("h2", { text: T("sessions") }), notice, box,
      el("ul", { class: "list", "data-testid": "sessions" }, (got.sessions || p.sessions || []).map(sessionItem))),
  );
}

function signedText(su) {
  if (su.status === "SIGN_UP_STATUS_WAITLISTED") return T("nowWaiting").replace("{n}", su.waitlist_position || "");
  if (su.status === "SIGN_UP_STATUS_PENDING") return T("nowPending");
  return T("nowConfirmed");
}

// -- my sign-ups --------------------------------------------------------------------

async function renderSignUps() {
  loading();
  let got;
  try { got = await get("/me/sign-ups"); } catch (err) { return failed(err); }
  const box = errorBox("sign-ups-error");
  const items = (got.sign_ups || []).map((s) => el("li", { "data-testid": "my-sign-up", "data-id": s.id, "data-status": s.status },
    el("a", { href: `#/find/${enc(s.project_id)}`, text: s.project_title || T("project") }),
    el("p", { class: "muted", text: span(s.session_starts_at, s.session_ends_at) }),
    statusBadge(s),
    ACTIVE.includes(s.status) ? el("div", { class: "actions" }, el("button", { type: "button", "data-testid": "withdraw",
      text: T("withdraw"), on: { click: async () => {
        clearErrors(box);
        try { await post(`/me/sign-ups/${enc(s.id)}/withdraw`); await renderSignUps(); } catch (err) { if (err.status !== 401) showError(box, err); }
      } } })) : ""));
  view().replaceChildren(el("section", { class: "card", "data-testid": "sign-ups" }, el("h1", { text: T("mySignUps") }), box,
    items.length ? el("ul", { class: "list" }, items) : el("p", { class: "empty", text: T("noSignUps") }),
    el("div", { class: "actions" }, el("a", { class: "button", href: "#/find", text: T("findMore") }))));
}

export const routes = {
  "/find": { render: (rest, params) => (rest ? renderProject(decodeURIComponent(rest)) : renderList(params)), tab: "find" },
  "/sign-ups": { render: renderSignUps, tab: "me" },
};
