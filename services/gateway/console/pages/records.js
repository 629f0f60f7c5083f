// Hour records and certificates (#/records): the hour records of the
// caller's scope with the filters ListRecords knows (status, volunteer,
// division) and paging; a record's detail (#/records/<id>) with its
// corrections, a correction form (new hours or a reversal, always with a
// reason) and the volunteer's totals; issuing a certificate for a volunteer,
// downloading its PDF, verifying one by number (public) and revoking it;
// the certificates issued in scope (the volunteer's when the filter names
// one, else the latest), each with download, verify and revoke.
// The approval queue stays at #/hours (app.js).
//
// This file: the list, the volunteer's totals and what the page's modules
// share (zy.records); records-certificates.js and records-detail.js hold
// the other screens; records.text.js the words.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  // What the records modules share; records-certificates.js and
  // records-detail.js add their screens to it.
  const kit = zy.records = {};
  const ROUTE = "#/records";
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  // A page key, or the shell's key of the same name (loading, failed, ...).
  const T = window.zy.scoped("hr");

  const STATUSES = ["RECORD_STATUS_PENDING", "RECORD_STATUS_APPROVED", "RECORD_STATUS_REJECTED", "RECORD_STATUS_REVERSED"];
  const CERT_STATUSES = ["CERTIFICATE_STATUS_VALID", "CERTIFICATE_STATUS_REVOKED"];

  const fieldLabel = zy.fieldName;
  const hoursText = (v) => `${zy.num(Number(v || 0))} ${T("hoursUnit")}`;
  const { when } = zy;
  // A China calendar date "YYYY-MM-DD" (certificates) and a month.
  const day = (v) => zy.when(v, "longDay");
  const month = (v) => (v ? zy.when(v, "month") : T("openPeriod"));
  const enc = encodeURIComponent;
  const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
  const { get, showError } = zy; // "field: message", field and rule kept as data
  function clear(...nodes) {
    nodes.forEach((n) => { n.textContent = ""; n.dataset.field = ""; n.dataset.rule = ""; });
  }
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const noticeBox = (id) => el("p", { class: "notice good", role: "status", "data-testid": id });
  const label = (key, control, help) => el("label", { class: "field" },
    el("span", { text: help ? `${T(key)}（${help}）` : T(key) }), control);
  const head = (keys, left = []) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", {
    text: T(k), ...(left.includes(k) ? { class: "left" } : {}) }))));
  // A definition list: [key, value, testid?, data-value?] rows.
  const facts = (testid, rows) => el("dl", { "data-testid": testid,
    class: "facts" },
  rows.filter(Boolean).flatMap(([key, value, id, raw]) => [
    el("dt", { class: "muted", text: T(key) }),
    el("dd", { class: "flush", ...(id ? { "data-testid": id } : {}), ...(raw !== undefined ? { "data-value": String(raw) } : {}),
      text: value ?? "" })]));

  // A failed load: 403 is the denied page, 404 (or a malformed id) a clear
  // not-found that shows nothing of the record, 401 is the shell's business.
  function failed(err, view, notFound) {
    if (err.status === 401) return;
    if (err.status === 403) { zy.renderDenied(); return; }
    if (notFound && (err.status === 404 || err.status === 400)) {
      view.replaceChildren(el("section", { class: "card denied", "data-testid": "record-not-found" },
        el("h1", { text: "404" }), el("h2", { text: T("notFound") }), el("p", { text: T("notFoundText") }),
        el("a", { href: ROUTE, text: T("backToList") })));
      return;
    }
    const box = errorBox("records-error");
    showError(box, err);
    view.replaceChildren(box);
  }

  // The error the hours service gives for an unknown volunteer id (NOT_FOUND,
  // naming the field), for a number the caller's scope does not hold.
  const volunteerNotFound = (typed) => ({ status: 404, body: { error: {
    code: "NOT_FOUND", field: "volunteer_id", rule: "volunteer_id.exists",
    message_zh: `未找到志愿者“${typed}”`, message_en: `volunteer '${typed}' was not found` } } });
  async function resolveVolunteer(value) {
    if (!value || UUID.test(value)) return value;
    const data = await get(`/volunteers?q=${enc(value)}`);
    return data.volunteers?.[0]?.id || null;
  }


  // -- volunteer totals --------------------------------------------------------

  async function totalsCard(volunteerId) {
    const card = el("section", { class: "card spaced", "data-testid": "volunteer-totals", "data-volunteer": volunteerId });
    let data;
    try {
      data = await get(`/hours/volunteers/${enc(volunteerId)}/totals`);
    } catch (err) {
      if (err.status === 401) throw err;
      card.append(el("h3", { text: T("totals") }), err.status === 404
        ? el("p", { class: "empty", "data-testid": "totals-empty", text: T("noTotals") }) : errorBox("totals-error"));
      if (err.status !== 404) showError(card.lastChild, err);
      return card;
    }
    const byField = Object.entries(data.hours_by_field || {}).filter(([, h]) => h)
      .map(([f, h]) => `${fieldLabel(f)} ${zy.num(h)}`).join("；");
    card.dataset.approved = String(data.approved_hours);
    card.append(el("h3", { text: `${T("totals")} · ${data.volunteer_number} · ${T("totalsScope")} ${data.division_code}` }),
      facts("totals-facts", [
        ["approvedHours", hoursText(data.approved_hours), "totals-approved", data.approved_hours],
        ["pendingHours", hoursText(data.pending_hours), "totals-pending", data.pending_hours],
        ["approvedRecords", zy.num(data.approved_records)],
        ["pendingRecords", zy.num(data.pending_records)],
        ["rejectedRecords", zy.num(data.rejected_records)],
        ["byField", byField || "—"],
        ["platformTotal", hoursText(data.platform_total_hours), "totals-platform", data.platform_total_hours],
      ]));
    return card;
  }

  // -- the list ----------------------------------------------------------------

  // Paging: the tokens of the pages before the current one, per filter.
  const trail = { key: "", tokens: [] };

  // A volunteer number (or a whole ID number) is looked up exactly, inside
  // the caller's scope; the list filters by the volunteer's id.
  async function renderList(params) {
    const view = zy.view();
    const asked = location.hash;
    view.replaceChildren(el("p", { text: T("loading") }));
    const status = STATUSES.includes(params.get("status")) ? params.get("status") : "";
    const volunteerAsked = (params.get("volunteer") || "").trim();
    const division = (params.get("division") || "").trim();
    const token = params.get("page") || "";
    const key = `${status}|${volunteerAsked}|${division}`;
    if (trail.key !== key || !token) { trail.key = key; trail.tokens = []; }

    const message = errorBox("records-error");
    let me, data = { records: [], page: {} }, volunteerId = volunteerAsked, unknown = false;
    try {
      me = await get("/me");
      volunteerId = await resolveVolunteer(volunteerAsked);
      if (volunteerId === null) unknown = true;
      else {
        const query = new URLSearchParams({ page_size: "20", page_token: token });
        if (status) query.set("status", status);
        if (volunteerId) query.set("volunteer_id", volunteerId);
        if (division) query.set("division_code", division);
        data = await get(`/hours/records?${query}`);
        await zy.divisions.load((data.records || []).map((r) => r.division_code)); // names beside codes
      }
    } catch (err) {
      if (location.hash !== asked) return undefined;
      if (err.status === 403 || err.status === 401 || !me) { failed(err, view, false); return undefined; }
      showError(message, err); // a malformed filter: say which and show the form
    }
    if (location.hash !== asked) return undefined; // the user went elsewhere meanwhile
    if (unknown) {
      showError(message, volunteerNotFound(volunteerAsked));
    }

    const form = el("form", { class: "tools wrap bottom", novalidate: "", "data-testid": "records-filters",
      on: { submit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        ["status", "volunteer", "division"].forEach((n) => { const v = form.elements[n].value.trim(); if (v) q.set(n, v); });
        zy.go(q.toString() ? `${ROUTE}?${q}` : ROUTE);
      } } },
    label("status", el("select", { name: "status", "data-testid": "records-status" },
      el("option", { value: "", text: T("allStatuses") }), STATUSES.map((s) => el("option", { value: s, text: T(s) })))),
    label("volunteerFilter", el("input", { name: "volunteer", "data-testid": "records-volunteer", value: volunteerAsked,
      autocomplete: "off", class: "minw-300" })),
    label("divisionFilter", zy.divisions.picker(el("input", { name: "division", "data-testid": "records-division", value: division,
      placeholder: me.scope_code || "", inputmode: "numeric", autocomplete: "off" }), me.scope_code || "")),
    el("button", { type: "submit", "data-testid": "records-apply", text: T("apply") }),
    el("button", { type: "button", "data-testid": "records-clear", text: T("clear"), on: { click: () => zy.go(ROUTE) } }));
    form.elements.status.value = status;

    const records = data.records || [];
    const rows = records.map((r) => el("tr", { "data-id": r.id, "data-status": r.status, "data-volunteer": r.volunteer_id,
      "data-effective": r.effective_hours, class: "drill", on: { click: () => zy.go(`${ROUTE}/${r.id}`) } },
    el("td", { "data-col": "volunteer" }, el("a", { href: `${ROUTE}?volunteer=${enc(r.volunteer_id)}`, title: r.volunteer_id,
      text: r.volunteer_number, on: { click: (e) => e.stopPropagation() } })),
    zy.divisions.cell(r.division_code, { "data-col": "division" }),
    el("td", { "data-col": "content", class: "prose", text: r.content }),
    el("td", { "data-col": "field", text: fieldLabel(r.service_field) }),
    el("td", { "data-col": "started", text: when(r.started_at) }),
    el("td", { "data-col": "hours", text: zy.num(r.hours) }),
    el("td", { "data-col": "effective", text: zy.num(r.effective_hours) }),
    el("td", { "data-col": "status", text: T(r.status) }),
    el("td", {}, el("a", { href: `${ROUTE}/${r.id}`, "data-action": "open", text: T("open") }))));
    const total = Number(data.page?.total_size || 0);
    const table = el("table", { "data-testid": "records-table", "data-total": String(total), "data-loaded": String(Date.now()) },
      head(["volunteer", "division", "content", "field", "started", "hours", "effective", "status", "actions"], ["content"]),
      el("tbody", {}, rows));
    table.hidden = !records.length;
    const nextToken = data.page?.next_page_token || "";
    const here = new URLSearchParams(params);
    const pageTo = (tok) => { if (tok) here.set("page", tok); else here.delete("page"); return `${ROUTE}?${here}`; };
    const paging = el("div", { class: "tools" },
      el("button", { type: "button", "data-testid": "records-first", text: T("first"), ...(token ? {} : { disabled: "" }),
        on: { click: () => { trail.tokens = []; zy.go(pageTo("")); } } }),
      el("button", { type: "button", "data-testid": "records-prev", text: T("prev"), ...(token ? {} : { disabled: "" }),
        on: { click: () => zy.go(pageTo(trail.tokens.pop() || "")) } }),
      el("button", { type: "button", "data-testid": "records-next", text: T("next"), ...(nextToken ? {} : { disabled: "" }),
        on: { click: () => { trail.tokens.push(token); zy.go(pageTo(nextToken)); } } }),
      el("span", { "data-testid": "records-total", "data-total": String(total), text: `${T("total")} ${zy.num(total)} ${T("items")}`.trim() }));

    const parts = [el("section", { class: "card" }, el("h2", { text: T("records") }), form, message,
      table, records.length ? "" : el("p", { class: "empty", "data-testid": "records-empty", text: T("empty") }), paging)];
    if (volunteerId) {
      try { parts.push(await totalsCard(volunteerId)); } catch (err) { return undefined; }
    }
    const verifier = kit.verifyBox();
    const list = kit.certificateList(volunteerId || "", division, verifier, unknown);
    const certs = el("div", { "data-testid": "certificates" }, el("h2", { class: "section-head", text: T("certificates") }),
      list.node, kit.issueForm(volunteerId || "", me, list.reload), verifier, kit.manageBox(list.reload),
      kit.sealBox());
    parts.push(certs);
    await list.load();
    if (location.hash !== asked) return undefined;
    view.replaceChildren(...parts);
    return undefined;
  }

  Object.assign(kit, {
    ROUTE, UUID, T, STATUSES, CERT_STATUSES, fieldLabel, hoursText, when, day, month, enc, json, clear, errorBox, noticeBox, label, head, facts, failed, volunteerNotFound, resolveVolunteer, totalsCard,
  });

  zy.pages["/records"] = async (rest, params) => {
    const id = (rest || "").split("/")[0];
    await zy.serviceFields().catch(() => {}); // labels fall back to the codes
    return id ? kit.renderRecord(decodeURIComponent(id)) : renderList(params);
  };
})();
