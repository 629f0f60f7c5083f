// Hour records and certificates (#/records): the hour records of the
// caller's scope with the filters ListRecords knows (status, volunteer,
// division) and paging; a record's detail (#/records/<id>) with its
// corrections, a correction form (new hours or a reversal, always with a
// reason) and the volunteer's totals; issuing a certificate for a volunteer,
// downloading its PDF, verifying one by number (public) and revoking it;
// the certificates issued in scope (the volunteer's when the filter names
// one, else the latest), each with download, verify and revoke.
// The approval queue stays at #/hours (app.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
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

  // -- certificates ------------------------------------------------------------

  async function downloadPdf(number, box) {
    clear(box);
    try {
      const r = await zy.api(`/certificates/${enc(number)}/pdf`);
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: `${number}.pdf` });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { if (err.status !== 401) showError(box, err); }
  }

  // Download and revoke for a certificate number; `done(cert)` after a
  // revocation. `withDownload: false` leaves the download to the caller.
  function certificateActions(number, done, withDownload = true) {
    const box = errorBox("certificate-error");
    const reason = el("input", { name: "revoke_reason", "data-testid": "revoke-reason", "aria-label": T("revokeReason"),
      placeholder: T("revokeReason"), class: "minw-240" });
    const revoke = el("button", { type: "button", "data-testid": "certificate-revoke", text: T("revoke"), on: { click: async () => {
      clear(box); revoke.disabled = true;
      try {
        const got = await (await zy.api(`/certificates/${enc(number)}/revoke`, json({ reason: reason.value }))).json();
        done(got.certificate);
      } catch (err) { if (err.status !== 401) showError(box, err); } finally { revoke.disabled = false; }
    } } });
    return el("div", {}, el("div", { class: "tools wrap middle" },
      withDownload ? el("button", { type: "button", "data-testid": "certificate-download", text: T("download"),
        on: { click: () => downloadPdf(number, box) } }) : "",
      reason, revoke), box);
  }

  function certificateCard(cert, onRevoked) {
    const status = cert.status || "";
    const card = el("section", { class: "card spaced accent", "data-testid": "certificate", "data-number": cert.number,
      "data-status": status });
    const period = cert.period || {};
    card.append(el("h3", { text: `${T("certificates")} · ${T(status)}` }), facts("certificate-facts", [
      ["number", cert.number, "certificate-number"],
      ["status", T(status), "certificate-status", status],
      ["nameMasked", cert.name_masked],
      ["idNumber", cert.id_number_masked],
      ["volunteer", cert.volunteer_number],
      ["hours", hoursText(cert.hours), "certificate-hours", cert.hours],
      ["serviceContent", cert.service_content],
      ["period", `${month(period.start_month)} – ${month(period.end_month)}`],
      ["issuerName", cert.issuer_name],
      ["personInCharge", cert.person_in_charge],
      ["handler", cert.handler],
      ["contact", cert.contact],
      ["issuedOn", day(cert.issued_on)],
      ["issuedBy", cert.issued_by],
      cert.revoked_reason ? ["revokedReason", cert.revoked_reason, "certificate-revoked-reason"] : null,
    ]));
    card.append(certificateActions(cert.number, (c) => {
      card.replaceWith(certificateCard(c, onRevoked)); onRevoked?.(c);
    }));
    if (status !== "CERTIFICATE_STATUS_VALID") {
      // A revoked certificate can still be downloaded, never revoked twice.
      card.querySelectorAll("[data-testid=certificate-revoke], [data-testid=revoke-reason]").forEach((n) => n.remove());
    }
    return card;
  }

  // `changed()` after a certificate is issued here, or revoked on its card.
  function issueForm(volunteerId, me, changed) {
    const box = errorBox("issue-error");
    const notice = noticeBox("issue-notice");
    const result = el("div", { "data-testid": "issued" });
    const input = (name, attrs = {}) => el("input", { name, "data-testid": `cert-${name}`, autocomplete: "off", ...attrs });
    const submit = el("button", { type: "submit", "data-testid": "cert-submit", text: T("submitIssue") });
    const form = el("form", { class: "card spaced", novalidate: "", "data-testid": "certificate-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(box, notice);
      const value = (n) => form.elements[n].value.trim();
      // A volunteer number (or whole ID number) is looked up exactly; an id
      // is passed on as it is, so the service names it if it is wrong.
      // A number not found in the caller's scope (unknown, or registered in
      // another county) is refused as the service refuses an unknown id.
      let volunteer = value("volunteer_id");
      if (volunteer && !UUID.test(volunteer)) {
        try {
          const typed = volunteer;
          volunteer = await resolveVolunteer(typed);
          if (!volunteer) { showError(box, volunteerNotFound(typed)); return; }
        } catch (err) {
          if (err.status !== 401) showError(box, err);
          return;
        }
      }
      const payload = {
        volunteer_id: volunteer,
        period: { start_month: value("start_month"), end_month: value("end_month") },
        issuer_name: value("issuer_name"), person_in_charge: value("person_in_charge"),
        handler: value("handler"), contact: value("contact"),
      };
      submit.disabled = true;
      try {
        const cert = (await (await zy.api("/certificates", json(payload))).json()).certificate;
        notice.textContent = `${T("issued")}: ${cert.number}`;
        notice.dataset.number = cert.number;
        result.replaceChildren(certificateCard(cert, changed));
        changed?.();
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("issue") }),
    el("div", { class: "row bottom" },
      label("volunteerId", input("volunteer_id", { value: volunteerId || "", class: "minw-300" })),
      label("startMonth", input("start_month", { type: "month" })),
      label("endMonth", input("end_month", { type: "month" }))),
    el("div", { class: "row bottom" },
      label("issuerName", input("issuer_name")),
      label("personInCharge", input("person_in_charge")),
      label("handler", input("handler", { placeholder: me?.username || "" }), T("handlerHelp")),
      label("contact", input("contact", { inputmode: "tel" }))),
    el("div", { class: "tools" }, submit), box, notice, result);
    return form;
  }

  function verifyBox() {
    const box = errorBox("verify-error");
    const result = el("div", { "data-testid": "verify-result" });
    const number = el("input", { name: "verify_number", "data-testid": "verify-number", "aria-label": T("number"),
      placeholder: T("numberPlaceholder"), class: "minw-260", autocomplete: "off" });
    const go = el("button", { type: "submit", "data-testid": "verify-submit", text: T("verifyButton") });
    const form = el("form", { class: "card spaced", novalidate: "", "data-testid": "verify-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(box); result.replaceChildren(); delete result.dataset.status;
      const n = number.value.trim();
      go.disabled = true;
      try {
        // The public route, deliberately without the token.
        const r = await fetch(`/api/v1/certificates/${enc(n)}/verify`);
        const data = await r.json().catch(() => null);
        if (r.status === 404) {
          result.dataset.status = "missing";
          result.append(el("p", { class: "error", "data-testid": "verify-verdict", text: T("verifyMissing") }));
          return;
        }
        if (!r.ok) { showError(box, { body: data, message: `HTTP ${r.status}` }); return; }
        const valid = data.status === "CERTIFICATE_STATUS_VALID";
        result.dataset.status = valid ? "valid" : "revoked";
        result.dataset.number = data.number;
        result.append(
          el("p", { "data-testid": "verify-verdict", class: valid ? "verdict good" : "verdict bad",
            text: valid ? `✔ ${T("verifyValid")}` : `✘ ${T("verifyRevoked")}` }),
          facts("verify-facts", [
            ["number", data.number], ["nameMasked", data.name_masked],
            ["hours", hoursText(data.hours), "verify-hours", data.hours],
            ["issuerName", data.issuer_name], ["issuedOn", day(data.issued_on)],
            ["status", T(data.status), "verify-status", data.status],
          ]));
      } catch (err) { showError(box, err); } finally { go.disabled = false; }
    } } },
    el("h3", { text: T("verify") }), el("p", { class: "muted flush", text: T("verifyHelp") }),
    el("div", { class: "tools" }, number, go), box, result);
    // Verify a number from elsewhere on the page (a row of the list).
    form.check = (n) => { number.value = n; form.requestSubmit(); form.scrollIntoView({ block: "nearest" }); };
    return form;
  }

  function manageBox(changed) {
    const number = el("input", { name: "manage_number", "data-testid": "manage-number", "aria-label": T("number"),
      placeholder: T("numberPlaceholder"), class: "minw-260", autocomplete: "off" });
    const slot = el("div", { "data-testid": "manage-result" });
    const box = errorBox("manage-error");
    const pick = () => {
      const n = number.value.trim().toUpperCase();
      clear(box);
      if (!n) { slot.replaceChildren(); return; }
      slot.replaceChildren(certificateActions(n, (cert) => { slot.replaceChildren(certificateCard(cert, changed)); changed?.(); }));
    };
    number.addEventListener("change", pick);
    return el("section", { class: "card spaced", "data-testid": "manage-certificate" },
      el("h3", { text: T("manage") }), el("p", { class: "muted flush", text: T("manageHelp") }),
      el("div", { class: "tools" }, number), box, slot);
  }

  // The certificates issued in scope (GET /certificates), newest first: the
  // volunteer's when `volunteerId` is set, else the latest; `division`
  // narrows to a subtree. Each row downloads, verifies (in `verifier`, the
  // page's verify form) and revokes (with a reason) through the functions
  // above. `unknown`: the volunteer filter matched nobody, so nothing lists.
  function certificateList(volunteerId, division, verifier, unknown) {
    const box = errorBox("cert-list-error");
    const status = el("select", { name: "cert_status", "data-testid": "cert-list-status", "aria-label": T("status") },
      el("option", { value: "", text: T("allCertStatuses") }), CERT_STATUSES.map((s) => el("option", { value: s, text: T(s) })));
    const body = el("tbody");
    const cols = ["number", "nameMasked", "certHours", "period", "issuerName", "status", "issued_on", "actions"];
    const table = el("table", { "data-testid": "cert-list-table", "data-total": "0", "data-loaded": "" },
      head(cols, ["issuerName"]), body);
    const empty = el("p", { class: "empty", "data-testid": "cert-list-empty", text: T("certEmpty") });
    const total = el("span", { "data-testid": "cert-list-total", "data-total": "0" });
    const trail = [];
    let token = "", nextToken = "", serial = 0;
    const prev = el("button", { type: "button", "data-testid": "cert-list-prev", text: T("prev"), disabled: "",
      on: { click: () => { token = trail.pop() || ""; load(); } } });
    const next = el("button", { type: "button", "data-testid": "cert-list-next", text: T("next"), disabled: "",
      on: { click: () => { trail.push(token); token = nextToken; load(); } } });

    const row = (c) => {
      const period = c.period || {};
      const rowBox = errorBox("cert-row-error");
      const tr = el("tr", { "data-testid": "cert-row", "data-number": c.number, "data-status": c.status,
        "data-volunteer": c.volunteer_id, "data-division": c.division_code });
      const button = (action, key, click) => el("button", { type: "button", "data-action": action, text: T(key), on: { click } });
      const actions = el("td", { "data-col": "actions", class: "nowrap" },
        button("download", "download", () => downloadPdf(c.number, rowBox)),
        button("verify", "verifyButton", () => verifier.check(c.number)));
      if (c.status === "CERTIFICATE_STATUS_VALID") {
        // Revoking asks for a reason in a row of its own beneath this one.
        actions.append(button("revoke", "revokeOpen", () => {
          const open = tr.nextElementSibling?.dataset.testid === "cert-revoke-row" ? tr.nextElementSibling : null;
          if (open) { open.remove(); return; }
          tr.after(el("tr", { "data-testid": "cert-revoke-row", "data-number": c.number },
            el("td", { colspan: String(cols.length), class: "left" },
              certificateActions(c.number, () => load(), false))));
        }));
      }
      actions.append(rowBox);
      tr.append(
        el("td", { "data-col": "number", text: c.number }),
        el("td", { "data-col": "name", text: c.name_masked }),
        el("td", { "data-col": "hours", "data-value": String(c.hours), text: hoursText(c.hours) }),
        el("td", { "data-col": "period", text: `${month(period.start_month)} – ${month(period.end_month)}` }),
        el("td", { "data-col": "issuer", class: "prose", text: c.issuer_name }),
        el("td", { "data-col": "status", "data-value": c.status, text: T(c.status) }),
        el("td", { "data-col": "issued", "data-value": c.issued_on, text: day(c.issued_on) }),
        actions);
      return tr;
    };

    async function load() {
      const mine = ++serial;
      clear(box);
      let data = { certificates: [], page: {} };
      if (!unknown) {
        const query = new URLSearchParams({ page_size: "10", page_token: token });
        if (volunteerId) query.set("volunteer_id", volunteerId);
        if (division) query.set("division_code", division);
        if (status.value) query.set("status", status.value);
        try {
          data = await get(`/certificates?${query}`);
        } catch (err) {
          if (mine !== serial) return;
          if (err.status !== 401) showError(box, err);
        }
      }
      if (mine !== serial) return; // a later load answers instead
      const certs = data.certificates || [];
      const count = Number(data.page?.total_size || 0);
      nextToken = data.page?.next_page_token || "";
      body.replaceChildren(...certs.map(row));
      table.hidden = !certs.length;
      empty.hidden = Boolean(certs.length);
      table.dataset.total = total.dataset.total = String(count);
      total.textContent = `${T("total")} ${zy.num(count)} ${T("items")}`.trim();
      prev.disabled = !token;
      next.disabled = !nextToken;
      table.dataset.loaded = String(Date.now());
    }
    status.addEventListener("change", () => { token = ""; trail.length = 0; load(); });

    const node = el("section", { class: "card spaced", "data-testid": "cert-list", "data-volunteer": volunteerId || "" },
    el("h3", { text: volunteerId ? T("certListVolunteer") : T("certListLatest") }),
    el("div", { class: "tools" }, status), box, table, empty,
    el("div", { class: "tools" }, prev, next, total));
    // After an issue or revocation elsewhere: back to the first page.
    const reload = () => { token = ""; trail.length = 0; return load(); };
    return { node, load, reload };
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
    label("divisionFilter", el("input", { name: "division", "data-testid": "records-division", value: division,
      placeholder: me.scope_code || "", inputmode: "numeric", autocomplete: "off" })),
    el("button", { type: "submit", "data-testid": "records-apply", text: T("apply") }),
    el("button", { type: "button", "data-testid": "records-clear", text: T("clear"), on: { click: () => zy.go(ROUTE) } }));
    form.elements.status.value = status;

    const records = data.records || [];
    const rows = records.map((r) => el("tr", { "data-id": r.id, "data-status": r.status, "data-volunteer": r.volunteer_id,
      "data-effective": r.effective_hours, class: "drill", on: { click: () => zy.go(`${ROUTE}/${r.id}`) } },
    el("td", { "data-col": "volunteer" }, el("a", { href: `${ROUTE}?volunteer=${enc(r.volunteer_id)}`, title: r.volunteer_id,
      text: r.volunteer_number, on: { click: (e) => e.stopPropagation() } })),
    el("td", { "data-col": "division", text: r.division_code }),
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
    const verifier = verifyBox();
    const list = certificateList(volunteerId || "", division, verifier, unknown);
    const certs = el("div", { "data-testid": "certificates" }, el("h2", { class: "section-head", text: T("certificates") }),
      list.node, issueForm(volunteerId || "", me, list.reload), verifier, manageBox(list.reload));
    parts.push(certs);
    await list.load();
    if (location.hash !== asked) return undefined;
    view.replaceChildren(...parts);
    return undefined;
  }

  // -- a record ----------------------------------------------------------------

  function correctionForm(record, reload) {
    const box = errorBox("correction-error");
    const notice = noticeBox("correction-notice");
    const hours = el("input", { name: "new_hours", type: "number", step: "0.01", "data-testid": "correction-hours",
      value: String(record.effective_hours ?? ""), "aria-label": T("newHours") });
    const reason = el("textarea", { name: "reason", rows: "2", "data-testid": "correction-reason", "aria-label": T("reasonHelp"),
      placeholder: T("reasonHelp"), class: "minw-420" });
    const mode = (value, key) => el("label", { class: "gap-right" },
      el("input", { type: "radio", name: "mode", value, "data-testid": `correction-mode-${value}`,
        ...(value === "amend" ? { checked: "" } : {}),
        on: { change: () => { hours.disabled = value === "reverse"; } } }), ` ${T(key)}`);
    const submit = el("button", { type: "submit", "data-testid": "correction-submit", text: T("submitCorrection") });
    const form = el("form", { class: "card spaced", novalidate: "", "data-testid": "correction-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(box, notice);
      const reverse = form.querySelector("input[name=mode]:checked")?.value === "reverse";
      const body = { reason: reason.value };
      if (reverse) body.reverse = true;
      else if (hours.value.trim() !== "") body.new_hours = Number(hours.value);
      submit.disabled = true;
      try {
        const got = await (await zy.api(`/hours/records/${enc(record.id)}/corrections`, json(body))).json();
        await reload(`${T("corrected")}: ${zy.num(got.correction.previous_hours)} → ${zy.num(got.correction.new_hours)}`);
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("correct") }),
    el("div", {}, mode("amend", "modeAmend"), mode("reverse", "modeReverse")),
    el("div", { class: "row bottom" }, label("newHours", hours), label("reason", reason)),
    el("div", { class: "tools" }, submit), box, notice);
    return form;
  }

  async function renderRecord(id, flash) {
    const view = zy.view();
    const asked = location.hash;
    if (!flash) view.replaceChildren(el("p", { text: T("loading") }));
    let data;
    try {
      data = await get(`/hours/records/${enc(id)}`);
    } catch (err) {
      if (location.hash === asked) failed(err, view, true);
      return undefined;
    }
    if (location.hash !== asked) return undefined;
    const r = data.record;
    const minutes = Math.round(Number(r.duration_seconds || 0) / 60);
    const detail = el("section", { class: "card", "data-testid": "record-detail", "data-id": r.id, "data-status": r.status,
      "data-effective": String(data.effective_hours), "data-volunteer": r.volunteer_id },
    el("p", {}, el("a", { href: ROUTE, "data-testid": "back-to-list", text: `← ${T("backToList")}` })),
    el("h2", { text: `${T("detail")} · ${r.content}` }),
    facts("record-facts", [
      ["volunteer", r.volunteer_number, "record-volunteer"],
      ["status", T(r.status), "record-status", r.status],
      r.status_reason ? ["statusReason", r.status_reason] : null,
      ["source", T(r.source)],
      ["division", r.division_code],
      ["organisation", r.organisation_name],
      ["field", fieldLabel(r.service_field)],
      ["content", r.content],
      ["duration", `${when(r.started_at)} – ${when(r.ended_at)}（${zy.num(minutes)} ${T("minutes")}）`],
      ["rounding", r.rounding],
      ["roundedHours", hoursText(r.rounded_hours)],
      Number(r.capped_hours) ? ["cappedHours", hoursText(r.capped_hours)] : null,
      ["hours", hoursText(r.hours), "record-hours", r.hours],
      ["effective", hoursText(data.effective_hours), "record-effective", data.effective_hours],
      r.note ? ["note", r.note] : null,
      ["recordedBy", `${r.recorded_by} · ${when(r.recorded_at)}`],
      r.reviewed_by ? ["reviewedBy", `${r.reviewed_by} · ${when(r.reviewed_at)}`] : null,
    ]),
    el("a", { href: `${ROUTE}?volunteer=${enc(r.volunteer_id)}`, "data-testid": "volunteer-link", text: T("showVolunteer") }));

    const fixes = data.corrections || [];
    const history = el("section", { class: "card spaced", "data-testid": "corrections", "data-count": String(fixes.length) },
      el("h3", { text: T("corrections") }),
      fixes.length ? el("table", {}, head(["when", "kind", "change", "delta", "reason", "actor"], ["reason"]),
        el("tbody", {}, fixes.map((c) => el("tr", { "data-testid": "correction-row", "data-id": c.id, "data-kind": c.kind,
          "data-previous": String(c.previous_hours), "data-new": String(c.new_hours), "data-delta": String(c.delta_hours),
          "data-actor": c.actor },
        el("td", { "data-col": "when", text: when(c.created_at) }),
        el("td", { "data-col": "kind", text: T(c.kind) }),
        el("td", { "data-col": "change", text: `${zy.num(c.previous_hours)} → ${zy.num(c.new_hours)}` }),
        el("td", { "data-col": "delta", text: `${c.delta_hours > 0 ? "+" : ""}${zy.num(c.delta_hours)}` }),
        el("td", { "data-col": "reason", class: "prose", text: c.reason }),
        el("td", { "data-col": "actor", text: c.actor })))))
        : el("p", { class: "empty", "data-testid": "corrections-empty", text: T("noCorrections") }));

    const reload = async (message) => {
      await renderRecord(id, true);
      const notice = zy.view().querySelector("[data-testid=correction-notice]");
      if (notice) notice.textContent = message;
    };
    const correction = r.status === "RECORD_STATUS_APPROVED" ? correctionForm({ ...r, effective_hours: data.effective_hours }, reload)
      : el("section", { class: "card spaced", "data-testid": "correction-closed" },
        el("h3", { text: T("correct") }), el("p", { text: T("onlyApproved") }));
    let totals;
    try { totals = await totalsCard(r.volunteer_id); } catch (err) { return undefined; }
    if (location.hash !== asked) return undefined;
    view.replaceChildren(detail, history, correction, totals);
    return undefined;
  }

  // The public verification page (#/verify/<number>): the address a
  // certificate's QR code holds. No login: the form is filled and checked.
  zy.publicPages["/verify"] = (rest) => {
    const form = verifyBox();
    form.dataset.testid = "verify-page";
    zy.view().replaceChildren(form);
    const n = decodeURIComponent(rest || "").trim();
    if (n) form.check(n);
  };

  zy.pages["/records"] = async (rest, params) => {
    const id = (rest || "").split("/")[0];
    await zy.serviceFields().catch(() => {}); // labels fall back to the codes
    return id ? renderRecord(decodeURIComponent(id)) : renderList(params);
  };
})();
