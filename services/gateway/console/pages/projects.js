// Projects page (#/projects, #/projects/<id>[?session=<id>]): the projects of
// the user's scope with a status filter and paging, a new project with its
// sessions, the review queue of projects awaiting the caller's approval, and
// a project's detail: its lifecycle (submit → approve | return → publish →
// start → complete, or cancel), its sessions, each session's sign-ups with
// approve/reject, the rotating check-in code and the attendance list.
//
// Review rule (services/activity): a reviewer, county/city (tenant) admin or
// provincial admin whose scope holds the project may approve it, never the
// account that published it; so a county's own project is approved by
// another reviewer of the county or by a level above.
//
// This file: the list and the review queue, and what the page's modules
// share (zy.projects); projects-form.js, projects-detail.js and
// projects-session.js hold the other screens; projects.text.js the words.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;

  const STATUSES = ["DRAFT", "SUBMITTED", "APPROVED", "RETURNED", "RECRUITING", "IN_PROGRESS", "COMPLETED", "CANCELLED"]
    .map((s) => `PROJECT_STATUS_${s}`);
  const T = window.zy.scoped("pj");
  const isZh = () => zy.lang() === "zh";
  const enc = encodeURIComponent;
  const { get, post, showError, allPages } = zy; // showError: "field: message", field and rule as data
  const ACTIVE_SIGN_UPS = ["SIGN_UP_STATUS_PENDING", "SIGN_UP_STATUS_CONFIRMED", "SIGN_UP_STATUS_WAITLISTED"];

  // Dates and times in Beijing time, in the current language.
  const when = (v, seconds = false) => zy.when(v, seconds ? "seconds" : "minutes");
  // A datetime-local value (Beijing wall time) as RFC 3339 with its offset;
  // China keeps no daylight saving time, so the offset is always +08:00.
  const rfc = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : "");
  const local = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 16);

  // What the projects modules share; projects-form.js (createForm,
  // editForm), projects-detail.js (renderDetail) and projects-session.js
  // (sessionPanel) add their screens to it. ``flash`` is a message for the
  // next render (after an action re-renders the page); ``fields`` the
  // service fields once loaded.
  const kit = zy.projects = { flash: "", fields: null };

  // Service fields come from the API (GET /service-fields), fetched once.
  async function serviceFields() {
    // The training courses a project may require (the menu at the user's node).
    const courses = zy.allPages("/courses", "courses").catch(() => []);
    kit.fields = await zy.serviceFields();
    kit.courses = await courses;
    return kit.fields;
  }
  const fieldName = zy.fieldName;

  function clear(node) { node.textContent = ""; node.dataset.field = ""; node.dataset.rule = ""; delete node.dataset.id; }


  // One render at a time: a newer render (or leaving the page) stops the
  // older one's timers and keeps its late answers off the screen.
  let generation = 0;
  const timers = new Set();
  function newRender() {
    generation += 1;
    timers.forEach((id) => { clearTimeout(id); clearInterval(id); });
    timers.clear();
    return generation;
  }
  // Whether the render numbered ``gen`` is still the one on the screen.
  const current = (gen) => gen === generation;
  const takeFlash = () => { const f = kit.flash; kit.flash = ""; return f; };

  async function loadMe() { return get("/me"); }

  function failPage(err) {
    if (err.status === 403) return zy.renderDenied();
    if (err.status === 401) return undefined;
    const p = el("p", { class: "error", "data-testid": "projects-failed" });
    showError(p, err);
    zy.view().replaceChildren(el("section", { class: "card" }, p));
    return undefined;
  }

  // -- the list, the review queue and the create form -------------------------------
  async function renderList(params) {
    const gen = newRender();
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    let me;
    try {
      me = await loadMe();
      await serviceFields();
    } catch (err) {
      if (kit.current(gen)) failPage(err);
      return undefined;
    }
    if (!kit.current(gen)) return undefined;
    const state = { status: STATUSES.includes(params.get("status")) ? params.get("status") : "", tokens: [""] };

    const message = el("p", { class: "error", "data-testid": "projects-message" });
    const notice = el("p", { class: "notice", "data-testid": "projects-notice", text: takeFlash() });
    const summary = el("span", { "data-testid": "projects-total" });
    const body = el("tbody");
    const table = el("table", { "data-testid": "projects-table" },
      el("thead", {}, el("tr", {}, ["title", "organisation", "division", "field", "firstSession", "sessions", "status", "actions"]
        .map((h) => el("th", { text: T(h) })))), body);
    const empty = el("p", { class: "empty", "data-testid": "projects-empty", text: T("empty"), hidden: "" });
    const filter = el("select", { "data-testid": "projects-status", "aria-label": T("status"), on: { change: () => {
      state.status = filter.value; state.tokens = [""]; load();
    } } }, el("option", { value: "", text: T("allStatuses") }), STATUSES.map((s) => el("option", { value: s, text: T(s) })));
    filter.value = state.status;
    const first = el("button", { type: "button", "data-testid": "projects-first", text: T("first"), on: { click: () => {
      state.tokens = [""]; load();
    } } });
    const next = el("button", { type: "button", "data-testid": "projects-next", text: T("next"), on: { click: () => {
      if (next.dataset.token) { state.tokens.push(next.dataset.token); load(); }
    } } });

    const row = (p) => el("tr", { "data-id": p.id, "data-status": p.status },
      el("td", { "data-col": "title" }, el("a", { href: `#/projects/${enc(p.id)}`, text: p.title })),
      el("td", { "data-col": "organisation", text: p.organisation_name }),
      el("td", { "data-col": "division", text: p.division_code }),
      el("td", { "data-col": "field", text: fieldName(p.service_field) }),
      el("td", { "data-col": "first_session", text: when(p.sessions?.[0]?.starts_at) }),
      el("td", { "data-col": "sessions", text: zy.num((p.sessions || []).length) }),
      el("td", { "data-col": "status" }, el("span", { class: "badge", text: T(p.status) })),
      el("td", { "data-col": "actions" }, el("a", { href: `#/projects/${enc(p.id)}`, "data-action": "open", text: T("open") })));

    async function load() {
      const query = new URLSearchParams({ page_size: "20", page_token: state.tokens[state.tokens.length - 1] });
      if (state.status) query.set("status", state.status);
      try {
        const data = await get(`/projects?${query}`);
        if (!kit.current(gen)) return;
        const list = data.projects || [];
        body.replaceChildren(...list.map(row));
        table.hidden = !list.length; empty.hidden = !!list.length;
        next.dataset.token = data.page?.next_page_token || "";
        next.disabled = !next.dataset.token;
        first.disabled = state.tokens.length === 1;
        const total = Number(data.page?.total_size || 0);
        summary.textContent = `${T("total")} ${zy.num(total)} ${T("items")}`;
        summary.dataset.total = String(total);
        table.dataset.loaded = String(Date.now());
      } catch (err) {
        if (!kit.current(gen)) return;
        if (err.status === 403) zy.renderDenied();
        else if (err.status !== 401) showError(message, err);
      }
    }

    // Review queue: submitted projects in scope that someone else published.
    const reviewer = zy.inGroup(me, "reviewers");
    const queueBody = el("tbody");
    const queueError = el("p", { class: "error", "data-testid": "review-message" });
    const queueTable = el("table", { "data-testid": "review-queue" },
      el("thead", {}, el("tr", {}, ["title", "organisation", "division", "publisher", "firstSession", "actions"]
        .map((h) => el("th", { text: T(h) })))), queueBody);
    const queueEmpty = el("p", { class: "empty", "data-testid": "review-empty", text: T("noneReview"), hidden: "" });
    async function review(p, verb, reason) {
      clear(queueError); clear(notice);
      try {
        await post(`/projects/${enc(p.id)}/${verb}`, verb === "return" ? { reason } : {});
        notice.textContent = `${T("done")}: ${p.title} · ${T(verb === "return" ? "PROJECT_STATUS_RETURNED" : "PROJECT_STATUS_APPROVED")}`;
        notice.dataset.id = p.id;
        await Promise.all([loadQueue(), load()]);
      } catch (err) {
        if (err.status !== 401) showError(queueError, err);
      }
    }
    const queueRow = (p) => {
      const reason = el("input", { name: "return_reason", "data-testid": "return-reason", placeholder: T("returnReason"), "aria-label": T("returnReason"), size: "18" });
      return el("tr", { "data-id": p.id },
        el("td", { "data-col": "title" }, el("a", { href: `#/projects/${enc(p.id)}`, text: p.title })),
        el("td", { text: p.organisation_name }), zy.divisions.cell(p.division_code, { "data-col": "division" }),
        el("td", { "data-col": "publisher", text: p.publisher }),
        el("td", { text: when(p.sessions?.[0]?.starts_at) }),
        el("td", { "data-col": "actions" },
          el("button", { type: "button", "data-action": "approve", text: T("approve"), on: { click: () => review(p, "approve") } }),
          " ", reason, " ",
          el("button", { type: "button", "data-action": "return", text: T("return"), on: { click: () => review(p, "return", reason.value.trim()) } })));
    };
    async function loadQueue() {
      if (!reviewer) return;
      try {
        const list = (await allPages("/projects?status=PROJECT_STATUS_SUBMITTED", "projects"))
          .filter((p) => p.publisher !== me.username);
        await zy.divisions.load(list.map((p) => p.division_code));
        if (!kit.current(gen)) return;
        queueBody.replaceChildren(...list.map(queueRow));
        queueTable.hidden = !list.length; queueEmpty.hidden = !!list.length;
        queueTable.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.status !== 401 && kit.current(gen)) showError(queueError, err);
      }
    }

    const sections = [
      el("section", { class: "card", "data-testid": "projects-list" }, el("h2", { text: T("listTitle") }),
        el("div", { class: "tools" }, filter, summary),
        message, notice, table, empty, el("div", { class: "tools", "aria-label": T("pager") }, first, next)),
    ];
    if (reviewer) {
      sections.push(el("section", { class: "card spaced", "data-testid": "review-section" },
        el("h3", { text: T("reviewQueue") }), el("p", { class: "hint", text: T("reviewHelp") }),
        queueError, queueTable, queueEmpty));
    }
    if (zy.inGroup(me, "managers")) {
      sections.push(await kit.createForm(me, gen, notice, load));
      if (!kit.current(gen)) return undefined;
    }
    view.replaceChildren(...sections);
    await Promise.all([load(), loadQueue()]);
    return undefined;
  }

  Object.assign(kit, {
    T, when, rfc, local, enc, isZh, clear, serviceFields, fieldName, failPage, loadMe,
    newRender, current, takeFlash, timers, ACTIVE_SIGN_UPS, STATUSES,
  });

  zy.pages["/projects"] = (rest, params) => {
    const id = decodeURIComponent((rest || "").split("/")[0]);
    return id ? kit.renderDetail(id, params) : renderList(params);
  };
  // Leaving the page stops the code's timers.
  window.addEventListener("hashchange", () => { if (!location.hash.startsWith("#/projects")) newRender(); });
})();
