// Volunteers page (#/volunteers): the volunteers of the user's scope with a
// status filter and paging, real-name registration, review (verify/reject)
// and joining a team. Personal data is shown only as the API masks it.
// "Merge a duplicate" on a row and the merges list are volunteers-merge.js
// (#/volunteers/merge/<id>, #/volunteers/merges).
"use strict";

(() => {
  const zy = window.zy;
  const { el, t } = zy;
  // Layout of the forms, inline: app.css is shared with the other pages.

  let FIELDS = []; // the service fields, from GET /api/v1/service-fields
  const STATUSES = ["pending", "verified", "rejected", "merged"];


  const fieldLabel = zy.fieldName;
  const statusOf = (v) => String(v.status || "").replace("VOLUNTEER_STATUS_", "").toLowerCase();

  const { uuid, showError, allPages } = zy;
  const clearMessage = zy.clearError;

  const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });

  async function renderVolunteers(rest, params) {
    if (rest === "merges") return zy.merges.listPage(params);
    if (rest.startsWith("merge/")) return zy.merges.mergePage(decodeURIComponent(rest.slice("merge/".length)));
    const view = zy.view();
    view.replaceChildren(el("p", { text: t("loading") }));
    // Paging state: the tokens of the pages seen, the current one last.
    const state = { status: params.get("status") || "", q: params.get("q") || "", tokens: [""] };
    let me;
    let teams = [];
    try {
      me = await (await zy.api("/me")).json();
      FIELDS = await zy.serviceFields();
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status !== 401) view.replaceChildren(el("p", { class: "error", text: t("failed") }));
      return undefined;
    }

    const message = el("p", { class: "error", "data-testid": "volunteers-message" });
    const notice = el("p", { class: "notice", "data-testid": "volunteers-notice" });
    const summary = el("span", { "data-testid": "volunteers-total" });
    const body = el("tbody");
    const table = el("table", { "data-testid": "volunteers-table" },
      el("thead", {}, el("tr", {}, ["volNumber", "volName", "volIdNumber", "volPhone", "volHome", "volStatus", "actions"]
        .map((h) => el("th", { text: t(h) })))), body);
    const empty = el("p", { class: "empty", "data-testid": "volunteers-empty", text: t("volEmpty") });
    const filter = el("select", { "data-testid": "volunteers-status", "aria-label": t("volStatus"), on: { change: () => {
      state.status = filter.value; state.tokens = [""]; load();
    } } }, el("option", { value: "", text: t("status_all") }),
    STATUSES.map((s) => el("option", { value: s, text: t(`status_${s}`) })));
    filter.value = state.status;
    const search = el("input", { type: "search", name: "q", value: state.q, "data-testid": "volunteers-search",
      placeholder: t("volSearch"), "aria-label": t("volSearch"), size: "28", autocomplete: "off" });
    const searchForm = el("form", { class: "tools", "data-testid": "volunteers-search-form", on: { submit: (e) => {
      e.preventDefault(); state.q = search.value.trim(); state.tokens = [""]; load();
    } } }, search, el("button", { type: "submit", text: t("volFind") }),
    el("button", { type: "button", "data-testid": "volunteers-clear", text: t("volClear"), on: { click: () => {
      search.value = ""; state.q = ""; state.tokens = [""]; load();
    } } }));
    const teamSelect = el("select", { "data-testid": "team-select", "aria-label": t("volTeam") });
    const first = el("button", { type: "button", "data-testid": "volunteers-first", text: t("volFirst"), on: { click: () => {
      state.tokens = [""]; load();
    } } });
    const next = el("button", { type: "button", "data-testid": "volunteers-next", text: t("volNext"), on: { click: () => {
      if (next.dataset.token) { state.tokens.push(next.dataset.token); load(); }
    } } });

    async function act(path, options, done) {
      clearMessage(message); clearMessage(notice);
      try {
        await zy.api(path, options);
        notice.textContent = done;
        await load();
      } catch (err) {
        if (err.status !== 401) showError(message, err);
      }
    }

    function row(v) {
      const status = statusOf(v);
      const actions = el("td", { "data-col": "actions" });
      if (status === "pending") {
        actions.append(
          el("button", { type: "button", "data-action": "verify", text: t("volVerify"), on: { click: () =>
            act(`/volunteers/${encodeURIComponent(v.id)}/verify`, json({}), t("volDone")) } }),
          el("button", { type: "button", "data-action": "reject", text: t("volReject"), on: { click: () => {
            const reason = prompt(t("rejectReason"));
            if (reason) act(`/volunteers/${encodeURIComponent(v.id)}/reject`, json({ reason }), t("volDone"));
          } } }));
      }
      if (status !== "merged") {
        actions.append(el("a", { href: `#/volunteers/merge/${encodeURIComponent(v.id)}`, class: "button-link", "data-action": "merge",
          text: t("vmAction"), title: t("vmActionHint") }));
      }
      if (status !== "rejected" && status !== "merged") {
        actions.append(el("button", { type: "button", "data-action": "join", text: t("volJoin"), on: { click: () => {
          if (!teamSelect.value) { message.textContent = t("volNoTeams"); return; }
          act(`/volunteers/${encodeURIComponent(v.id)}/teams`, json({ organisation_id: teamSelect.value, role: "member" }), t("volJoined"));
        } } }));
      }
      const teamNames = (v.team_ids || []).map((id) => teams.find((o) => o.id === id)?.name || id).join("、");
      return el("tr", { "data-id": v.id, "data-number": v.volunteer_number, "data-status": status, "data-teams": (v.team_ids || []).join(" ") },
        el("td", { "data-col": "volunteer_number", text: v.volunteer_number }),
        el("td", { "data-col": "name", text: v.name }),
        el("td", { "data-col": "id_number", text: v.id_number }),
        el("td", { "data-col": "phone", text: v.phone }),
        el("td", { "data-col": "home_division_code", text: v.home_division_code, title: teamNames }),
        el("td", { "data-col": "status", text: t(`status_${status}`) }),
        actions);
    }

    async function load() {
      const token = state.tokens[state.tokens.length - 1];
      const query = new URLSearchParams({ division_code: "", status: state.status, page_size: "50", page_token: token, q: state.q });
      if (!state.status) query.delete("status");
      if (!state.q) query.delete("q");
      clearMessage(message);
      try {
        const data = await (await zy.api(`/volunteers?${query}`)).json();
        const list = data.volunteers || [];
        body.replaceChildren(...list.map(row));
        table.hidden = !list.length; empty.hidden = !!list.length;
        next.dataset.token = data.page?.next_page_token || "";
        next.disabled = !next.dataset.token;
        first.disabled = state.tokens.length === 1;
        const total = Number(data.page?.total_size || 0);
        summary.textContent = `${t("volTotal")} ${zy.num(total)} ${t("volPeople")}`.trim();
        summary.dataset.total = total;
        table.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.status === 403) zy.renderDenied();
        else if (err.status !== 401) showError(message, err);
      }
    }

    async function loadTeams() {
      try {
        teams = await allPages("/organisations", "organisations");
      } catch (err) { teams = []; }
      const kind = (o) => String(o.kind || "").replace("ORGANISATION_KIND_", "").toLowerCase();
      const sorted = [...teams].sort((a, b) => (kind(a) === kind(b) ? a.name.localeCompare(b.name, "zh") : kind(a) === "team" ? -1 : 1));
      teamSelect.replaceChildren(...(sorted.length
        ? sorted.map((o) => el("option", { value: o.id, "data-kind": kind(o), text: `${o.name} (${o.division_code})` }))
        : [el("option", { value: "", text: t("volNoTeams") })]));
    }

    // Register form.
    const input = (name, label, attrs = {}) => el("label", { class: "field" }, el("span", { text: t(label) }),
      el("input", { name, "data-testid": `vol-${name}`, "aria-label": t(label), required: "", ...attrs }));
    const formError = el("p", { class: "error", "data-testid": "volunteer-form-error" });
    const fieldBoxes = el("fieldset", { class: "fields choices", "data-testid": "vol-service-fields" },
      el("legend", { text: `${t("volFields")}（${t("volFieldsHelp")}）` }),
      FIELDS.map(({ code }) => el("label", {},
        el("input", { type: "checkbox", name: "service_fields", value: code, "data-field": code }), fieldLabel(code))));
    const submit = el("button", { type: "submit", "data-testid": "vol-submit", text: t("volSubmit") });
    // The home division: picked from the tree under the user's scope (or typed).
    const home = input("home_division_code", "volHome", { value: me.scope_code || "", inputmode: "numeric" });
    home.append(zy.divisions.picker(home.querySelector("input"), me.scope_code || ""));
    const form = el("form", { class: "card form", "data-testid": "volunteer-form", on: { submit: async (e) => {
      e.preventDefault();
      clearMessage(formError); clearMessage(notice); clearMessage(message);
      const value = (n) => form.elements[n].value.trim();
      const payload = {
        name: value("name"), id_number: value("id_number"), phone: value("phone"),
        home_division_code: value("home_division_code"),
        service_fields: [...form.querySelectorAll("input[name=service_fields]:checked")].map((c) => c.value),
      };
      submit.disabled = true;
      try {
        const r = await zy.api("/volunteers", { method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": uuid() }, body: JSON.stringify(payload) });
        const v = (await r.json()).volunteer;
        notice.textContent = `${t("volRegistered")}: ${v.volunteer_number}`;
        notice.dataset.id = v.id;
        form.reset();
        form.elements.home_division_code.value = me.scope_code || "";
        form.elements.home_division_code.dispatchEvent(new Event("change")); // the picker follows
        await load();
      } catch (err) {
        if (err.status !== 401) showError(formError, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: t("volRegister") }),
    el("div", { class: "grid row" }, input("name", "volName", { autocomplete: "off" }),
      input("id_number", "volIdNumber", { autocomplete: "off", maxlength: "18" }),
      input("phone", "volPhone", { autocomplete: "off", inputmode: "tel" }),
      home),
    fieldBoxes, el("div", { class: "tools" }, submit), formError);

    view.replaceChildren(
      el("section", { class: "card" }, el("h2", { text: t("volunteersTitle") }),
        el("div", { class: "tools" }, filter, summary, el("span", { class: "spacer" }), el("label", {}, `${t("volTeam")}: `, teamSelect),
          el("a", { href: "#/volunteers/merges", "data-testid": "merges-link", text: t("vmList") })),
        searchForm,
        message, notice, table, empty, el("div", { class: "tools" }, first, next)),
      form);
    await loadTeams();
    await load();
    return undefined;
  }

  zy.pages["/volunteers"] = renderVolunteers;
})();
