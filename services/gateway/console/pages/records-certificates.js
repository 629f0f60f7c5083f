// Hour records: certificates: issuing one for a volunteer (saying
// whether to print the volunteer's training and awards as the records hold them), its card with
// download and revoke, verifying one by number (also the public page
// #/verify/<number> the PDF's QR code holds), the certificates issued in
// scope, and the office's seal image the certificates carry (upload,
// preview). Part of the records page (records.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, showError } = zy;
  const kit = zy.records;
  const { UUID, T, CERT_STATUSES, hoursText, day, month, enc, json, clear, errorBox, noticeBox, label, head, facts, volunteerNotFound, resolveVolunteer } = kit;

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
    // Training and awards are drawn from activity's and commendation's
    // records (谁记录谁证明), never typed: the office only says whether to
    // print them.
    const withTraining = el("input", { type: "checkbox", name: "include_training", "data-testid": "cert-training" });
    const withAwards = el("input", { type: "checkbox", name: "include_awards", "data-testid": "cert-awards" });
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
        include_training: withTraining.checked,
        include_awards: withAwards.checked,
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
    el("div", { class: "row bottom" },
      el("label", { class: "check" }, withTraining, el("span", { text: T("includeTraining") })),
      el("label", { class: "check" }, withAwards, el("span", { text: T("includeAwards") }))),
    el("p", { class: "muted", text: T("linesHelp") }),
    el("div", { class: "tools" }, submit), box, notice, result);
    return form;
  }

  // The office's seal image (PNG or JPEG, at most 512 KiB), printed on the
  // certificates issued in its subtree: the one kept now, and an upload
  // that replaces it.
  function sealBox() {
    const box = errorBox("seal-error");
    const notice = noticeBox("seal-notice");
    const preview = el("div", { "data-testid": "seal-preview" });
    const file = el("input", { type: "file", name: "seal", accept: "image/png,image/jpeg", "data-testid": "seal-file",
      "aria-label": T("sealFile") });
    const show = (got) => {
      preview.replaceChildren(el("img", { src: `data:${got.seal.media_type};base64,${got.image}`, alt: T("seal"),
        width: "96", height: "96", "data-testid": "seal-image" }));
    };
    const load = () => get("/hours/seals").then(show).catch((err) => {
      if (err.status === 404) preview.replaceChildren(el("p", { class: "muted", text: T("sealNone") }));
    });
    const upload = el("button", { type: "button", "data-testid": "seal-upload", text: T("sealUpload"), on: { click: async () => {
      clear(box, notice);
      const picked = file.files?.[0];
      if (!picked) return;
      const bytes = new Uint8Array(await picked.arrayBuffer());
      let binary = "";
      bytes.forEach((b) => { binary += String.fromCharCode(b); });
      upload.disabled = true;
      try {
        await zy.api("/hours/seals", json({ image: window.btoa(binary) }));
        notice.textContent = T("sealSaved");
        await load();
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      } finally { upload.disabled = false; }
    } } });
    load();
    return el("section", { class: "card spaced", "data-testid": "seal" },
      el("h3", { text: T("seal") }), el("p", { class: "muted flush", text: T("sealHelp") }),
      preview, el("div", { class: "tools wrap" }, file, upload), box, notice);
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


  // The public verification page (#/verify/<number>): the address a
  // certificate's QR code holds. No login: the form is filled and checked.
  zy.publicPages["/verify"] = (rest) => {
    const form = verifyBox();
    form.dataset.testid = "verify-page";
    zy.view().replaceChildren(form);
    const n = decodeURIComponent(rest || "").trim();
    if (n) form.check(n);
  };

  kit.issueForm = issueForm;
  kit.sealBox = sealBox;
  kit.verifyBox = verifyBox;
  kit.manageBox = manageBox;
  kit.certificateList = certificateList;
  kit.certificateActions = certificateActions;
  kit.certificateCard = certificateCard;
  kit.downloadPdf = downloadPdf;
})();
