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

  // Service fields come from the API (GET /service-fields), fetched once.
  let fieldsCache = null;
  async function serviceFields() {
    fieldsCache = await zy.serviceFields();
    return fieldsCache;
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
  // A message for the next render (after an action re-renders the page).
  let flash = "";
  const takeFlash = () => { const f = flash; flash = ""; return f; };

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
      if (gen === generation) failPage(err);
      return undefined;
    }
    if (gen !== generation) return undefined;
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
        if (gen !== generation) return;
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
        if (gen !== generation) return;
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
        el("td", { text: p.organisation_name }), el("td", { text: p.division_code }),
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
        if (gen !== generation) return;
        queueBody.replaceChildren(...list.map(queueRow));
        queueTable.hidden = !list.length; queueEmpty.hidden = !!list.length;
        queueTable.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.status !== 401 && gen === generation) showError(queueError, err);
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
      sections.push(await createForm(me, gen, notice, load));
      if (gen !== generation) return undefined;
    }
    view.replaceChildren(...sections);
    await Promise.all([load(), loadQueue()]);
    return undefined;
  }

  // The editable fields of a project, shared by the create and the edit form
  // (UpdateProject takes the same fields as CreateProject, less the
  // organisation). ``v`` is a project to prefill from, or null for defaults.
  // A prefilled time left untouched is sent back exactly as it was stored.
  function projectFields(v, { lead = [], emergency = false } = {}) {
    const fields = fieldsCache || [];
    const label = (text, node) => el("label", { class: "field" }, el("span", { text }), node);
    const input = (name, attrs = {}) => el("input", { name, "data-field": name, "data-testid": `pj-${name.replace(/_/g, "-")}`, autocomplete: "off", ...attrs });
    const time = (name, iso, attrs = {}) => {
      const node = input(name, { type: "datetime-local", ...attrs });
      if (iso) { node.value = local(Date.parse(iso)); node.dataset.orig = iso; node.dataset.origLocal = node.value; }
      return node;
    };
    const read = (node) => (node.dataset.orig && node.value === node.dataset.origLocal ? node.dataset.orig : rfc(node.value.trim()));

    const field = el("select", { name: "service_field", "data-field": "service_field", "data-testid": "pj-service-field" },
      el("option", { value: "", text: "—" }), fields.map((f) => el("option", { value: f.code, text: isZh() ? f.name_zh : f.name_en })));
    const kind = el("select", { name: "kind", "data-field": "kind", "data-testid": "pj-kind" },
      ["PROJECT_KIND_SERVICE", "PROJECT_KIND_DONATION"].map((k) => el("option", { value: k, text: T(k) })));
    const chosen = new Set(v?.eligibility?.required_skills || []);
    const skills = el("fieldset", { "data-testid": "pj-required-skills", "data-field": "eligibility.required_skills", class: "choices" },
      el("legend", { text: T("requiredSkills") }),
      fields.map((f) => {
        const box = el("input", { type: "checkbox", name: "required_skills", value: f.code });
        box.checked = chosen.has(f.code);
        return el("label", {}, box, isZh() ? f.name_zh : f.name_en);
      }));

    const sessionList = el("div", { "data-testid": "pj-sessions" });
    const renumber = () => [...sessionList.children].forEach((r, i) => {
      r.dataset.index = String(i);
      r.querySelector("[name=session_starts_at]").dataset.field = `sessions[${i}].starts_at`;
      r.querySelector("[name=session_ends_at]").dataset.field = `sessions[${i}].ends_at`;
      r.querySelector("[name=session_capacity]").dataset.field = `sessions[${i}].capacity`;
    });
    const addSession = (start, end, capacity = "10") => {
      // A stored time (with its offset) or a Beijing wall time.
      const stamp = (name, value) => {
        const stored = /(Z|[+-]\d\d:\d\d)$/.test(value || "");
        const node = time(name, stored ? value : "");
        node.removeAttribute("data-testid");
        if (!stored) node.value = value || "";
        return node;
      };
      const r = el("div", { class: "session-row row", "data-testid": "pj-session" },
        label(T("sessionStart"), stamp("session_starts_at", start)),
        label(T("sessionEnd"), stamp("session_ends_at", end)),
        label(T("capacity"), el("input", { type: "number", min: "1", name: "session_capacity", value: String(capacity), class: "w-90" })),
        el("button", { type: "button", "data-action": "remove-session", class: "at-end", text: T("removeSession"), on: { click: () => {
          if (sessionList.children.length > 1) { r.remove(); renumber(); }
        } } }));
      sessionList.append(r); renumber();
    };
    // Defaults: one session tomorrow 09:00–11:00, recruiting from now until it starts.
    const tomorrow = local(Date.now() + 86400e3).slice(0, 10);
    if (v?.sessions?.length) v.sessions.forEach((x) => addSession(x.starts_at, x.ends_at, x.capacity));
    else addSession(`${tomorrow}T09:00`, `${tomorrow}T11:00`);
    const addButton = el("button", { type: "button", "data-testid": "pj-add-session", text: T("addSession"), on: { click: () => {
      const last = sessionList.lastElementChild;
      addSession("", "", last?.querySelector("[name=session_capacity]").value || "10");
    } } });

    const title = input("title", { maxlength: "100", size: "30", value: v?.title || "" });
    const place = input("place", { maxlength: "200", size: "30", value: v?.place || "" });
    const description = el("textarea", { name: "description", "data-field": "description", "data-testid": "pj-description", rows: "2", maxlength: "2000", class: "full" });
    description.value = v?.description || "";
    field.value = v?.service_field || "";
    kind.value = v?.kind || "PROJECT_KIND_SERVICE";
    const recruitStarts = v ? time("recruit_starts_at", v.recruit_starts_at) : input("recruit_starts_at", { type: "datetime-local", value: local(Date.now()) });
    const recruitEnds = v ? time("recruit_ends_at", v.recruit_ends_at) : input("recruit_ends_at", { type: "datetime-local", value: `${tomorrow}T09:00` });
    const minAge = input("min_age", { type: "number", min: "0", max: "100", value: String(v?.eligibility?.min_age || 0), "data-field": "eligibility.min_age", class: "w-90" });
    const approval = input("leader_approval", { type: "checkbox" });
    approval.checked = !!v?.leader_approval;
    const urgent = emergency || v?.emergency ? input("emergency", { type: "checkbox" }) : null;
    if (urgent) urgent.checked = !!v?.emergency;

    const nodes = [
      el("div", { class: "row" }, lead, label(T("title"), title), label(T("place"), place), label(T("field"), field), label(T("kind"), kind)),
      label(T("description"), description),
      el("div", { class: "row" },
        label(T("recruitStarts"), recruitStarts), label(T("recruitEnds"), recruitEnds), label(T("minAge"), minAge),
        el("label", { class: "at-end" }, approval, ` ${T("leaderApproval")}`),
        urgent ? el("label", { class: "at-end" }, urgent, ` ${T("emergency")}`) : ""),
      skills,
      el("h4", { class: "subhead", text: `${T("sessions")}（${T("timesNote")}）` }),
      sessionList,
    ];
    const payload = () => ({
      title: title.value.trim(), description: description.value.trim(), place: place.value.trim(),
      service_field: field.value, kind: kind.value,
      sessions: [...sessionList.children].map((r) => ({
        starts_at: read(r.querySelector("[name=session_starts_at]")),
        ends_at: read(r.querySelector("[name=session_ends_at]")),
        capacity: Number(r.querySelector("[name=session_capacity]").value) || 0,
      })),
      recruit_starts_at: read(recruitStarts), recruit_ends_at: read(recruitEnds),
      eligibility: {
        min_age: Number(minAge.value.trim()) || 0,
        required_skills: [...skills.querySelectorAll("input:checked")].map((c) => c.value),
      },
      leader_approval: approval.checked,
      emergency: !!urgent?.checked,
    });
    return { nodes, addButton, payload, title };
  }

  // A refused save: "field: message" above the form, the field marked.
  function formFailed(form, node, err) {
    showError(node, err);
    const name = err.body?.error?.field;
    const bad = name && form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus?.(); }
  }
  function formReset(form, node, notice) {
    clear(node); if (notice) clear(notice);
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }

  async function createForm(me, gen, notice, reload) {
    let orgs = [];
    try { orgs = await allPages("/organisations", "organisations"); } catch (err) { orgs = []; }
    const kindOf = (o) => String(o.kind || "").replace("ORGANISATION_KIND_", "").toLowerCase();
    orgs.sort((a, b) => (a.division_code.length - b.division_code.length)
      || (kindOf(a) === kindOf(b) ? 0 : kindOf(a) === "organisation" ? -1 : 1) || a.name.localeCompare(b.name, "zh"));
    const formError = el("p", { class: "error", "data-testid": "project-form-error" });
    const org = el("select", { name: "organisation_id", "data-field": "organisation_id", "data-testid": "pj-organisation" },
      orgs.map((o) => el("option", { value: o.id, text: `${o.name} (${o.division_code})` })));
    const editor = projectFields(null, {
      lead: el("label", { class: "field" }, el("span", { text: T("organisation") }), org),
      emergency: me.scope_code.length <= 4,
    });
    const submit = el("button", { type: "submit", "data-testid": "pj-submit", text: T("save") });
    const form = el("form", { class: "card form spaced", novalidate: "", "data-testid": "project-form", on: { submit: async (e) => {
      e.preventDefault();
      formReset(form, formError, notice);
      submit.disabled = true;
      try {
        const r = await zy.api("/projects", { method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ organisation_id: org.value, ...editor.payload() }) });
        const p = (await r.json()).project;
        notice.replaceChildren(`${T("createdOk")}: ${p.title} `, el("a", { href: `#/projects/${enc(p.id)}`, "data-testid": "pj-created-link", text: T("openIt") }));
        notice.dataset.id = p.id;
        editor.title.value = "";
        await reload();
      } catch (err) {
        if (err.status !== 401) formFailed(form, formError, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("create") }), editor.nodes, el("div", { class: "tools" }, editor.addButton, submit), formError);
    return form;
  }

  // Editing a draft or a returned project (UpdateProject, PUT /projects/{id}):
  // every field but the organisation, sessions replaced whole; the reviewer's
  // comment on a returned project is shown above the form.
  function editForm(project, again) {
    const formError = el("p", { class: "error", "data-testid": "project-edit-error" });
    const editor = projectFields(project, {
      lead: el("label", { class: "field" }, el("span", { text: T("organisation") }),
        el("span", { class: "value", "data-testid": "pj-edit-organisation", text: `${project.organisation_name} (${project.division_code})` })),
      emergency: project.division_code.length <= 4,
    });
    const save = el("button", { type: "submit", "data-testid": "pj-edit-save", text: T("saveEdit") });
    const comment = project.status === "PROJECT_STATUS_RETURNED" && project.comment
      ? el("div", { "data-testid": "edit-comment", class: "callout" },
        el("strong", { text: `${T("returnedComment")}${isZh() ? "：" : ": "}` }), el("span", { "data-col": "comment", text: project.comment }))
      : "";
    const form = el("form", { class: "card form spaced", novalidate: "", "data-testid": "project-edit-form", "data-id": project.id, on: { submit: async (e) => {
      e.preventDefault();
      formReset(form, formError);
      save.disabled = true;
      try {
        const r = await zy.api(`/projects/${enc(project.id)}`, { method: "PUT", headers: { "content-type": "application/json" },
          body: JSON.stringify(editor.payload()) });
        const p = (await r.json()).project;
        again(`${T("savedOk")}: ${p.title}`);
      } catch (err) {
        if (err.status !== 401) formFailed(form, formError, err);
        save.disabled = false;
      }
    } } },
    el("h3", { text: T("edit") }), comment,
    el("p", { class: "hint", text: T("editHelp") }),
    editor.nodes, el("div", { class: "tools" }, editor.addButton, save), formError);
    return form;
  }

  // -- a project's detail ---------------------------------------------------------------
  async function renderDetail(id, params) {
    const gen = newRender();
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    let me;
    let project;
    try {
      [me, project] = await Promise.all([loadMe(), get(`/projects/${enc(id)}`).then((d) => d.project), serviceFields()]);
    } catch (err) {
      if (gen !== generation) return undefined;
      if (err.status === 404) {
        view.replaceChildren(el("section", { class: "card denied", "data-testid": "project-not-found" },
          el("h1", { text: "404" }), el("h2", { text: T("notFoundTitle") }), el("p", { text: T("notFound") }),
          el("a", { href: "#/projects", text: T("back") })));
        return undefined;
      }
      return failPage(err);
    }
    if (gen !== generation) return undefined;
    const message = el("p", { class: "error", "data-testid": "project-message" });
    const notice = el("p", { class: "notice", "data-testid": "project-notice", text: takeFlash() });
    const status = project.status;
    const manager = zy.inGroup(me, "managers");
    const reviewer = zy.inGroup(me, "reviewers") && project.publisher !== me.username;
    const again = (text) => { flash = text; zy.go(location.hash); };

    async function act(verb, body) {
      clear(message); clear(notice);
      try {
        const p = (await post(`/projects/${enc(project.id)}/${verb}`, body)).project;
        again(`${T("done")}: ${T(p.status)}`);
      } catch (err) {
        if (err.status !== 401) showError(message, err);
      }
    }
    const button = (verb, text, onClick) => el("button", { type: "button", "data-action": verb, text, on: { click: onClick || (() => act(verb)) } });
    const actions = el("div", { class: "tools wrap middle", "data-testid": "project-actions" });
    if (manager && ["PROJECT_STATUS_DRAFT", "PROJECT_STATUS_RETURNED"].includes(status)) actions.append(button("submit", T("submit")));
    if (reviewer && status === "PROJECT_STATUS_SUBMITTED") {
      const reason = el("input", { name: "return_reason", "data-testid": "return-reason", placeholder: T("returnReason"), "aria-label": T("returnReason") });
      actions.append(button("approve", T("approve")), reason, button("return", T("return"), () => act("return", { reason: reason.value.trim() })));
    }
    if (manager && status === "PROJECT_STATUS_APPROVED") actions.append(button("publish", T("publish")));
    if (manager && status === "PROJECT_STATUS_RECRUITING") actions.append(button("start", T("start")));
    if (manager && status === "PROJECT_STATUS_IN_PROGRESS") actions.append(button("complete", T("complete")));
    if (manager && !["PROJECT_STATUS_SUBMITTED", "PROJECT_STATUS_COMPLETED", "PROJECT_STATUS_CANCELLED"].includes(status)) {
      actions.append(button("cancel", T("cancel"), () => {
        const reason = prompt(T("cancelReason"));
        if (reason !== null) act("cancel", { reason });
      }));
    }

    const el2 = (k, v, col) => [el("dt", { class: "muted", text: T(k) }), el("dd", { class: "flush", "data-col": col || k, text: v })];
    const elig = project.eligibility || {};
    const details = el("dl", { class: "facts" },
      el2("organisation", project.organisation_name), el2("division", project.division_code),
      el2("place", project.place), el2("field", fieldName(project.service_field)), el2("kind", T(project.kind)),
      el2("recruitWindow", `${when(project.recruit_starts_at)} – ${when(project.recruit_ends_at)}`),
      el2("eligibility", [elig.min_age ? `${zy.num(elig.min_age)} ${T("ageFrom")}` : T("noMinAge"),
        ...(elig.required_skills || []).map(fieldName)].join("、")),
      el2("leaderApproval", T(project.leader_approval ? "yes" : "no")),
      el2("emergency", T(project.emergency ? "yes" : "no")),
      el2("publisher", project.publisher), el2("createdAt", when(project.created_at)),
      project.published_at ? el2("publishedAt", when(project.published_at)) : [],
      project.comment ? el2("comment", project.comment, "comment") : [],
      project.description ? el2("description", project.description) : []);

    // Sessions; the chosen one (?session=) is managed below.
    const sessions = project.sessions || [];
    const chosen = sessions.find((x) => x.id === params.get("session")) || sessions[0];
    const sessionTable = el("table", { "data-testid": "sessions-table" },
      el("thead", {}, el("tr", {}, ["session", "sessionStart", "sessionEnd", "capacity", "confirmed", "waitlisted", "actions"].map((h) => el("th", { text: T(h) })))),
      el("tbody", {}, sessions.map((x, i) => el("tr", { "data-id": x.id, "data-selected": String(x === chosen), class: x === chosen ? "chosen" : "" },
        el("td", { text: `#${i + 1}` }), el("td", { "data-col": "starts_at", text: when(x.starts_at) }),
        el("td", { "data-col": "ends_at", text: when(x.ends_at) }), el("td", { "data-col": "capacity", text: zy.num(x.capacity) }),
        el("td", { "data-col": "confirmed", text: zy.num(x.confirmed) }), el("td", { "data-col": "waitlisted", text: zy.num(x.waitlisted) }),
        el("td", {}, el("a", { href: `#/projects/${enc(project.id)}?session=${enc(x.id)}`, "data-action": "manage", text: T("manage") }))))));

    const parts = [
      el("p", {}, el("a", { href: "#/projects", "data-testid": "back-to-projects", text: `‹ ${T("back")}` })),
      el("section", { class: "card", "data-testid": "project-detail", "data-id": project.id, "data-status": status },
        el("h2", { "data-testid": "project-title" }, `${project.title} `,
          el("span", { class: "badge", "data-testid": "project-status", "data-status": status, text: T(status) })),
        details, actions, message, notice),
    ];
    if (manager && ["PROJECT_STATUS_DRAFT", "PROJECT_STATUS_RETURNED"].includes(status)) parts.push(editForm(project, again));
    parts.push(el("section", { class: "card spaced" }, el("h3", { text: `${T("sessions")}（${T("timesNote")}）` }), sessionTable));
    if (chosen) parts.push(sessionPanel(project, chosen, sessions.indexOf(chosen), me, gen));
    view.replaceChildren(...parts);
    return undefined;
  }

  function sessionPanel(project, session, index, me, gen) {
    const running = project.status === "PROJECT_STATUS_IN_PROGRESS";
    const open = ["PROJECT_STATUS_RECRUITING", "PROJECT_STATUS_IN_PROGRESS"].includes(project.status);
    const manager = zy.inGroup(me, "managers");
    const sid = enc(session.id);
    const alive = () => gen === generation;

    // Sign-ups.
    const suError = el("p", { class: "error", "data-testid": "signups-message" });
    const suNotice = el("p", { class: "notice", "data-testid": "signups-notice" });
    const suBody = el("tbody");
    const suTable = el("table", { "data-testid": "signups-table" },
      el("thead", {}, el("tr", {}, ["queue", "volunteerNumber", "status", "signedAt", "reason", "actions"].map((h) => el("th", { text: T(h) })))), suBody);
    const suEmpty = el("p", { class: "empty", "data-testid": "signups-empty", text: T("noneSignUps"), hidden: "" });
    async function decide(s, verb, body) {
      clear(suError); clear(suNotice);
      try {
        await post(verb === "check-in" ? `/sessions/${sid}/check-in` : `/sign-ups/${enc(s.id)}/${verb}`, body);
        // Places changed: the sessions table's counts too.
        flash = `${T("done")}: ${s.volunteer_number}`;
        zy.go(location.hash);
      } catch (err) {
        if (err.status !== 401) showError(suError, err);
      }
    }
    const suRow = (s) => {
      const cell = el("td", { "data-col": "actions" });
      if (manager && open && s.status === "SIGN_UP_STATUS_PENDING") {
        const reason = el("input", { name: "reject_reason", "data-testid": "reject-reason", placeholder: T("rejectReason"), "aria-label": T("rejectReason"), size: "14" });
        cell.append(el("button", { type: "button", "data-action": "approve", text: T("approveSignUp"), on: { click: () => decide(s, "approve") } }),
          " ", reason, " ", el("button", { type: "button", "data-action": "reject", text: T("rejectSignUp"), on: { click: () => decide(s, "reject", { reason: reason.value.trim() }) } }));
      }
      const here = present.has(s.volunteer_id);
      if (manager && running && s.status === "SIGN_UP_STATUS_CONFIRMED" && !here) {
        cell.append(el("button", { type: "button", "data-action": "check-in", text: T("checkInDirect"), on: { click: () => decide(s, "check-in", { volunteer_id: s.volunteer_id }) } }));
      }
      // WithdrawSignUp: any manager whose scope holds the project or the
      // volunteer, while the project is open and before the volunteer checks in.
      if (manager && open && ACTIVE_SIGN_UPS.includes(s.status) && !here) {
        cell.append(" ", el("button", { type: "button", "data-action": "withdraw", text: T("withdraw"), on: { click: () => {
          if (confirm(T("withdrawConfirm"))) decide(s, "withdraw");
        } } }));
      }
      return el("tr", { "data-id": s.id, "data-volunteer": s.volunteer_id, "data-number": s.volunteer_number, "data-status": s.status },
        el("td", { text: s.queue_number ? zy.num(s.queue_number) : "" }),
        el("td", { "data-col": "volunteer_number", text: s.volunteer_number }),
        el("td", { "data-col": "status", text: T(s.status) }),
        el("td", { text: when(s.created_at) }), el("td", { "data-col": "reason", text: s.reason || "" }), cell);
    };
    async function loadSignUps() {
      try {
        const list = await allPages(`/sessions/${sid}/sign-ups`, "sign_ups");
        if (!alive()) return;
        suBody.replaceChildren(...list.map(suRow));
        suTable.hidden = !list.length; suEmpty.hidden = !!list.length;
        suTable.dataset.loaded = String(Date.now());
      } catch (err) {
        if (alive() && err.status !== 401) showError(suError, err);
      }
    }

    // Attendance: check-out by the leader (CheckOut without a code, until 2 h
    // after the session) and the late close (CloseAttendance: at the time
    // service ended, between the check-in and the session's end, never in
    // the future). Both are the project's own managers' (the service answers
    // NOT_FOUND to anyone else). The service time is the check-in to the
    // check-out within the session (as the hours service counts it); the
    // credited hours are the hour record the hours worker makes of it.
    const present = new Set();
    const atError = el("p", { class: "error", "data-testid": "attendance-message" });
    const atNotice = el("p", { class: "notice", "data-testid": "attendance-notice" });
    const atBody = el("tbody");
    const atTable = el("table", { "data-testid": "attendance-table" },
      el("thead", {}, el("tr", {}, ["volunteerNumber", "checkedIn", "checkedOut", "closedBy", "duration", "credited", "actions"].map((h) => el("th", { text: T(h) })))), atBody);
    const atEmpty = el("p", { class: "empty", "data-testid": "attendance-empty", text: T("noneAttendance"), hidden: "" });
    const startMs = Date.parse(session.starts_at);
    const endMs = Date.parse(session.ends_at);
    const localSec = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 19);
    const served = (a) => Math.max(0, Math.floor((Math.min(Date.parse(a.checked_out_at), endMs) - Math.max(Date.parse(a.checked_in_at), startMs)) / 1000));
    const clock = (sec) => `${Math.floor(sec / 3600)}:${String(Math.floor(sec / 60) % 60).padStart(2, "0")}:${String(sec % 60).padStart(2, "0")}`;

    async function closeOut(a, verb, body) {
      clear(atError); clear(atNotice);
      try {
        await post(`/sessions/${sid}/${verb}`, { volunteer_id: a.volunteer_id, ...body });
        atNotice.textContent = `${T("done")}: ${a.volunteer_number} · ${T(verb === "close" ? "closeAttendance" : "checkOut")}`;
        atNotice.dataset.id = a.id;
        await loadAttendance();
      } catch (err) {
        if (err.status === 401) return;
        showError(atError, err);
        atError.dataset.id = a.id;
      }
    }
    const actionsFor = (a, typed) => {
      const cell = el("td", { "data-col": "actions" });
      if (!manager || a.checked_out_at) return cell;
      if (Date.now() <= endMs + 2 * 3600e3) {
        cell.append(el("button", { type: "button", "data-action": "check-out", text: T("checkOut"), on: { click: () => closeOut(a, "check-out") } }), " ");
      }
      // Default: now (to the next whole second, so never before a check-in
      // made this second) or the session's end, whichever is earlier.
      const latest = Math.min(Math.ceil(Date.now() / 1000) * 1000, endMs);
      const ended = el("input", { type: "datetime-local", step: "1", name: "ended_at", "data-field": "ended_at", "aria-label": T("closeAt"), title: T("closeHelp"),
        min: localSec(Date.parse(a.checked_in_at)), max: localSec(latest), value: localSec(latest) });
      if (typed) { ended.value = typed; ended.dataset.touched = "true"; }
      cell.append(ended, " ", el("button", { type: "button", "data-action": "close", title: T("closeHelp"), text: T("closeAttendance"), on: { click: () => {
        ended.removeAttribute("aria-invalid");
        closeOut(a, "close", { ended_at: rfc(ended.value) }).then(() => {
          if (atError.dataset.id === a.id && atError.dataset.field === "ended_at") ended.setAttribute("aria-invalid", "true");
        });
      } } }));
      ended.addEventListener("input", () => { ended.dataset.touched = "true"; });
      return cell;
    };

    // Credited hours: the hour record whose source is the attendance, looked
    // up per volunteer; the worker makes it a moment after the check-out, so
    // missing ones are asked for again a few times.
    const credits = new Map();
    const creditCells = new Map();
    let creditTries = 0;
    let creditTimer = 0;
    function showCredit(cell, rec) {
      if (!rec) {
        cell.dataset.pending = "true";
        cell.textContent = T("creditPending");
        return;
      }
      delete cell.dataset.pending;
      cell.dataset.record = rec.id;
      cell.dataset.hours = String(rec.hours);
      cell.dataset.recordStatus = rec.status;
      const reason = rec.status_reason ? T(`why_${rec.status_reason}`) : "";
      const why = rec.status === "RECORD_STATUS_REJECTED" && reason ? ` (${reason.startsWith("why_") ? rec.status_reason : reason})` : "";
      cell.textContent = `${zy.num(rec.hours)} · ${T(rec.status)}${why}`;
    }
    async function loadCredits() {
      const wanted = [...creditCells.keys()].filter((id) => !credits.has(id));
      const people = new Map();
      wanted.forEach((id) => people.set(creditCells.get(id).volunteer, true));
      for (const volunteer of people.keys()) {
        try {
          const data = await get(`/hours/records?volunteer_id=${enc(volunteer)}&page_size=100`);
          (data.records || []).filter((r) => r.source === "RECORD_SOURCE_ATTENDANCE").forEach((r) => credits.set(r.source_id, r));
        } catch (err) {
          if (err.status === 401 || err.status === 403) return; // no right to read hours: the column stays empty
        }
        if (!alive()) return;
      }
      let missing = 0;
      creditCells.forEach(({ cell }, id) => { showCredit(cell, credits.get(id)); if (!credits.has(id)) missing += 1; });
      clearTimeout(creditTimer);
      if (missing && creditTries < 20 && alive()) {
        creditTries += 1;
        creditTimer = setTimeout(() => { if (alive()) loadCredits(); }, 3000);
        timers.add(creditTimer);
      }
    }

    async function loadAttendance() {
      try {
        const list = await allPages(`/sessions/${sid}/attendances`, "attendances");
        if (!alive()) return;
        // A close time being typed survives the reload the code's timer makes.
        const typed = new Map([...atBody.querySelectorAll("input[name=ended_at][data-touched]")]
          .map((n) => [n.closest("tr").dataset.id, n.value]));
        present.clear();
        creditCells.clear();
        list.forEach((a) => present.add(a.volunteer_id));
        atBody.replaceChildren(...list.map((a) => {
          const out = !!a.checked_out_at;
          const credited = el("td", { "data-col": "credited" });
          if (out) {
            creditCells.set(a.id, { cell: credited, volunteer: a.volunteer_id });
            showCredit(credited, credits.get(a.id));
          }
          return el("tr", { "data-id": a.id, "data-volunteer": a.volunteer_id, "data-number": a.volunteer_number, "data-out": String(out) },
            el("td", { "data-col": "volunteer_number", text: a.volunteer_number }),
            el("td", { "data-col": "checked_in_at", text: when(a.checked_in_at, true) }),
            el("td", { "data-col": "checked_out_at", text: out ? when(a.checked_out_at, true) : T("notOut") }),
            el("td", { "data-col": "closed_by", text: a.closed_by ? T(`closed_${a.closed_by}`) : "" }),
            el("td", { "data-col": "duration", "data-seconds": out ? String(served(a)) : "", text: out ? clock(served(a)) : "" }),
            credited, actionsFor(a, typed.get(a.id)));
        }));
        atTable.hidden = !list.length; atEmpty.hidden = !!list.length;
        atTable.dataset.loaded = String(Date.now());
        creditTries = 0;
        if (creditCells.size) loadCredits();
      } catch (err) {
        if (alive() && err.status !== 401) showError(atError, err);
      }
    }

    // The rotating code: fetched again as soon as its window ends (the
    // service still accepts it for one more window, so the code on screen
    // never shows an expired code), with a countdown meanwhile.
    const codeBox = el("div", { "data-testid": "checkin-code", class: "centred" });
    const codeError = el("p", { class: "error", "data-testid": "checkin-message" });
    async function loadCode() {
      if (!alive()) return;
      try {
        const c = await get(`/sessions/${sid}/check-in-code`);
        if (!alive()) return;
        const until = Date.parse(c.valid_until);
        const countdown = el("span", { "data-testid": "checkin-countdown" });
        const tick = () => { countdown.textContent = `${zy.num(Math.max(0, Math.ceil((until - Date.now()) / 1000)))} ${T("refreshIn")}`; };
        tick();
        clear(codeError);
        codeBox.dataset.code = c.code;
        codeBox.dataset.validUntil = c.valid_until;
        codeBox.dataset.loaded = String(Date.now());
        codeBox.replaceChildren(
          el("div", { "data-testid": "checkin-code-value", "aria-label": T("checkInCode"), class: "checkin-code", text: c.code }),
          el("div", { "data-testid": "checkin-expiry", text: `${T("validUntil")} ${when(c.valid_until, true)}` }),
          el("div", { class: "hint" }, countdown));
        const ticker = setInterval(() => (alive() && countdown.isConnected ? tick() : clearInterval(ticker)), 1000);
        timers.add(ticker);
        const windowMs = (Number(c.window_seconds) || 60) * 1000;
        const delay = Math.min(Math.max(until - Date.now() + 300, 1000), windowMs + 300);
        // When the next code is fetched (epoch ms), kept for the record.
        codeBox.dataset.refreshAt = String(Date.now() + delay);
        timers.add(setTimeout(() => { clearInterval(ticker); timers.delete(ticker); loadCode(); loadAttendance(); }, delay));
      } catch (err) {
        if (!alive() || err.status === 401) return;
        showError(codeError, err);
        timers.add(setTimeout(loadCode, 10000));
      }
    }

    const codeSection = running && manager
      ? el("div", {}, el("h4", { class: "tight", text: T("checkInCode") }), codeBox, codeError)
      : el("p", { class: "empty compact", "data-testid": "checkin-hidden", text: T("codeHidden") });
    const panel = el("section", { class: "card spaced", "data-testid": "session-panel", "data-id": session.id },
      el("h3", { text: `${T("selected")} #${index + 1}: ${when(session.starts_at)} – ${when(session.ends_at)}` }),
      el("div", { class: "session-grid" },
        el("div", { class: "scroll-x" },
          el("h4", { class: "tight", text: T("signUps") }), suError, suNotice, suTable, suEmpty),
        codeSection),
      // Full width: the attendance rows carry the check-out and close tools.
      el("div", { class: "scroll-x" },
        el("h4", { class: "subhead-gap", text: T("attendance") }),
        el("div", { class: "tools" }, el("button", { type: "button", "data-testid": "attendance-refresh", text: T("refresh"), on: { click: loadAttendance } })),
        manager ? el("p", { class: "hint", "data-testid": "close-help", text: T("closeHelp") }) : "",
        atError, atNotice, atTable, atEmpty));
    // Sign-ups after attendance: who is present decides their buttons.
    loadAttendance().then(loadSignUps);
    if (running && manager) loadCode();
    return panel;
  }

  zy.pages["/projects"] = (rest, params) => {
    const id = decodeURIComponent((rest || "").split("/")[0]);
    return id ? renderDetail(id, params) : renderList(params);
  };
  // Leaving the page stops the code's timers.
  window.addEventListener("hashchange", () => { if (!location.hash.startsWith("#/projects")) newRender(); });
})();
