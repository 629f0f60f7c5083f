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
  const { el, t } = zy;
  const ROUTE = "#/records";
  const GRID = "display:flex;flex-wrap:wrap;gap:10px 16px;margin:8px 0;align-items:flex-end";
  const LABEL = "display:grid;gap:2px;font-size:12px;color:#555";
  const LEFT = "text-align:left;white-space:normal";
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  const prefixed = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`hr.${k}`, v]));
  // A page key, or the shell's key of the same name (loading, failed, ...).
  const T = (k) => { const v = t(`hr.${k}`); return v === `hr.${k}` ? t(k) : v; };
  zy.text(...[{
    records: "时长与证明", list: "时长记录", filters: "筛选", status: "状态", allStatuses: "全部状态",
    volunteerFilter: "志愿者（编号或 ID）", divisionFilter: "区划代码", apply: "查询", clear: "清除",
    total: "共", items: "条", first: "第一页", prev: "上一页", next: "下一页", empty: "没有符合条件的时长记录",
    volunteer: "志愿者编号", division: "区划", content: "服务内容", field: "服务领域", started: "服务时间",
    hours: "记入时长", effective: "当前有效时长", source: "来源", open: "详情",
    RECORD_STATUS_PENDING: "待审核", RECORD_STATUS_APPROVED: "已通过", RECORD_STATUS_REJECTED: "已驳回",
    RECORD_STATUS_REVERSED: "已冲销", RECORD_SOURCE_ATTENDANCE: "签到签退", RECORD_SOURCE_VISIT: "结对走访",
    RECORD_SOURCE_HONOUR: "补录", CORRECTION_KIND_AMEND: "更正时长", CORRECTION_KIND_REVERSAL: "整条冲销",
    CERTIFICATE_STATUS_VALID: "有效", CERTIFICATE_STATUS_REVOKED: "已撤销",
    detail: "时长记录详情", backToList: "返回时长记录", notFound: "未找到该时长记录",
    notFoundText: "该记录不存在，或不在您的管辖范围内。", organisation: "记录组织", ended: "结束时间",
    duration: "服务时段", rounding: "取整规则", roundedHours: "取整后时长", cappedHours: "超出每日上限未计入",
    note: "备注", statusReason: "状态说明", recordedBy: "记录人", recordedAt: "记录时间",
    reviewedBy: "审核人", reviewedAt: "审核时间", minutes: "分钟",
    corrections: "更正记录", noCorrections: "该记录尚无更正", when: "时间", kind: "类型",
    change: "原时长 → 新时长", delta: "变动", reason: "原因", actor: "操作人",
    correct: "更正或冲销", modeAmend: "更正为新的时长", modeReverse: "整条冲销（记为 0 小时）",
    newHours: "新时长（小时）", reasonHelp: "更正原因（必填，如：异议核实、录入错误）", submitCorrection: "提交更正",
    corrected: "已更正", onlyApproved: "只有已通过审核的记录可以更正或冲销。",
    totals: "志愿者累计时长", totalsScope: "本辖区内", approvedHours: "已审核时长", pendingHours: "待审核时长",
    approvedRecords: "已通过记录", pendingRecords: "待审核记录", rejectedRecords: "已驳回记录",
    platformTotal: "全平台累计（星级依据）", byField: "各服务领域", noTotals: "该志愿者在本辖区内没有时长记录",
    showVolunteer: "查看该志愿者的全部记录与证明",
    certificates: "志愿服务记录证明", issue: "开具证明", volunteerId: "志愿者（编号、身份证号或 ID）", startMonth: "起始月份",
    endMonth: "截止月份", issuerName: "出具单位", personInCharge: "负责人", handler: "经办人",
    handlerHelp: "留空则为当前账号", contact: "联系方式", submitIssue: "开具", issued: "证明已开具",
    number: "证明编号", nameMasked: "姓名", idNumber: "证件号码", serviceContent: "服务内容",
    period: "证明期间", openPeriod: "不限", issuedOn: "开具日期", issuedBy: "开具账号",
    revokedReason: "撤销原因", download: "下载 PDF", revoke: "撤销证明", revokeReason: "撤销原因（必填）",
    revoked: "证明已撤销", verify: "证明核验", verifyHelp: "任何人均可凭证明编号核验（无需登录）",
    verifyButton: "核验", verifyValid: "证明有效", verifyRevoked: "证明已撤销，不再有效",
    verifyMissing: "未找到该编号的证明", hoursUnit: "小时", numberPlaceholder: "ZYC-61-2026-000042-K7QX",
    manage: "按编号管理证明", manageHelp: "下载或撤销本辖区开具的证明",
    certListVolunteer: "该志愿者的证明", certListLatest: "本辖区最新开具的证明", certEmpty: "没有符合条件的证明",
    certHours: "证明时长", issued_on: "开具日期", allCertStatuses: "全部证明", revokeOpen: "撤销…",
  }, {
    records: "Hours and certificates", list: "Hour records", filters: "Filters", status: "Status",
    allStatuses: "All statuses", volunteerFilter: "Volunteer (number or ID)", divisionFilter: "Division code",
    apply: "Search", clear: "Clear", total: "Total", items: "", first: "First page", prev: "Previous page",
    next: "Next page", empty: "No hour records match", volunteer: "Volunteer no.", division: "Division",
    content: "Service", field: "Field", started: "Served", hours: "Credited", effective: "Effective hours",
    source: "Source", open: "Details",
    RECORD_STATUS_PENDING: "Pending", RECORD_STATUS_APPROVED: "Approved", RECORD_STATUS_REJECTED: "Rejected",
    RECORD_STATUS_REVERSED: "Reversed", RECORD_SOURCE_ATTENDANCE: "Check-in/out", RECORD_SOURCE_VISIT: "Pairing visit",
    RECORD_SOURCE_HONOUR: "Added by hand", CORRECTION_KIND_AMEND: "Amended", CORRECTION_KIND_REVERSAL: "Reversed",
    CERTIFICATE_STATUS_VALID: "Valid", CERTIFICATE_STATUS_REVOKED: "Revoked",
    detail: "Hour record", backToList: "Back to hour records", notFound: "Hour record not found",
    notFoundText: "The record does not exist or lies outside your jurisdiction.", organisation: "Recorded by (organisation)",
    ended: "Ended", duration: "Service time", rounding: "Rounding", roundedHours: "Rounded hours",
    cappedHours: "Not credited (daily cap)", note: "Note", statusReason: "Status reason", recordedBy: "Recorded by",
    recordedAt: "Recorded at", reviewedBy: "Reviewed by", reviewedAt: "Reviewed at", minutes: "min",
    corrections: "Corrections", noCorrections: "No corrections yet", when: "When", kind: "Kind",
    change: "Old → new hours", delta: "Change", reason: "Reason", actor: "By",
    correct: "Correct or reverse", modeAmend: "Amend to new hours", modeReverse: "Reverse entirely (0 hours)",
    newHours: "New hours", reasonHelp: "Why (required: an upheld objection, a recording error, ...)",
    submitCorrection: "Submit correction", corrected: "Corrected",
    onlyApproved: "Only approved records can be corrected or reversed.",
    totals: "Volunteer's totals", totalsScope: "in your jurisdiction", approvedHours: "Approved hours",
    pendingHours: "Pending hours", approvedRecords: "Approved records", pendingRecords: "Pending records",
    rejectedRecords: "Rejected records", platformTotal: "Platform total (basis of stars)", byField: "By field",
    noTotals: "This volunteer has no hour records in your jurisdiction",
    showVolunteer: "All records and certificates of this volunteer",
    certificates: "Service certificates", issue: "Issue a certificate", volunteerId: "Volunteer (number, ID number or id)",
    startMonth: "From month", endMonth: "To month", issuerName: "Issuer", personInCharge: "Person in charge",
    handler: "Handler", handlerHelp: "empty: your account", contact: "Contact", submitIssue: "Issue",
    issued: "Certificate issued", number: "Certificate no.", nameMasked: "Name", idNumber: "ID number",
    serviceContent: "Service", period: "Period", openPeriod: "open", issuedOn: "Issued on", issuedBy: "Issued by",
    revokedReason: "Revocation reason", download: "Download PDF", revoke: "Revoke", revokeReason: "Why revoke (required)",
    revoked: "Certificate revoked", verify: "Verify a certificate",
    verifyHelp: "Anyone can verify a certificate by its number (no login needed)", verifyButton: "Verify",
    verifyValid: "The certificate is valid", verifyRevoked: "The certificate was revoked and is no longer valid",
    verifyMissing: "No certificate has this number", hoursUnit: "h", numberPlaceholder: "ZYC-61-2026-000042-K7QX",
    manage: "Manage a certificate by number", manageHelp: "Download or revoke a certificate issued in your jurisdiction",
    certListVolunteer: "This volunteer's certificates", certListLatest: "Latest certificates issued in your jurisdiction",
    certEmpty: "No certificates match", certHours: "Certified hours", issued_on: "Issued on",
    allCertStatuses: "All certificates", revokeOpen: "Revoke…",
  }].map(prefixed));

  const STATUSES = ["RECORD_STATUS_PENDING", "RECORD_STATUS_APPROVED", "RECORD_STATUS_REJECTED", "RECORD_STATUS_REVERSED"];
  const CERT_STATUSES = ["CERTIFICATE_STATUS_VALID", "CERTIFICATE_STATUS_REVOKED"];

  const fieldLabel = zy.fieldName;
  const hoursText = (v) => `${zy.num(Number(v || 0))} ${T("hoursUnit")}`;
  const when = (v) => (v ? new Intl.DateTimeFormat(zy.locale(), {
    dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Shanghai" }).format(new Date(v)) : "");
  // A China calendar date "YYYY-MM-DD" (certificates) in the user's language.
  const day = (v) => (v ? new Intl.DateTimeFormat(zy.locale(), { dateStyle: "long", timeZone: "Asia/Shanghai" })
    .format(new Date(`${v}T12:00:00+08:00`)) : "");
  const month = (v) => (v ? new Intl.DateTimeFormat(zy.locale(), { year: "numeric", month: "long", timeZone: "Asia/Shanghai" })
    .format(new Date(`${v}-15T12:00:00+08:00`)) : T("openPeriod"));
  const enc = encodeURIComponent;
  const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
  const { get, showError } = zy; // "field: message", field and rule kept as data
  function clear(...nodes) {
    nodes.forEach((n) => { n.textContent = ""; n.dataset.field = ""; n.dataset.rule = ""; });
  }
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const noticeBox = (id) => el("p", { class: "notice", role: "status", "data-testid": id, style: "color:#1e7b34" });
  const label = (key, control, help) => el("label", { style: LABEL },
    el("span", { text: help ? `${T(key)}（${help}）` : T(key) }), control);
  const head = (keys, left = []) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", {
    text: T(k), ...(left.includes(k) ? { style: "text-align:left" } : {}) }))));
  // A definition list: [key, value, testid?, data-value?] rows.
  const facts = (testid, rows) => el("dl", { "data-testid": testid,
    style: "display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0" },
  rows.filter(Boolean).flatMap(([key, value, id, raw]) => [
    el("dt", { style: "color:#666", text: T(key) }),
    el("dd", { style: "margin:0", ...(id ? { "data-testid": id } : {}), ...(raw !== undefined ? { "data-value": String(raw) } : {}),
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
      placeholder: T("revokeReason"), style: "min-width:240px" });
    const revoke = el("button", { type: "button", "data-testid": "certificate-revoke", text: T("revoke"), on: { click: async () => {
      clear(box); revoke.disabled = true;
      try {
        const got = await (await zy.api(`/certificates/${enc(number)}/revoke`, json({ reason: reason.value }))).json();
        done(got.certificate);
      } catch (err) { if (err.status !== 401) showError(box, err); } finally { revoke.disabled = false; }
    } } });
    return el("div", {}, el("div", { class: "tools", style: "flex-wrap:wrap;align-items:center" },
      withDownload ? el("button", { type: "button", "data-testid": "certificate-download", text: T("download"),
        on: { click: () => downloadPdf(number, box) } }) : "",
      reason, revoke), box);
  }

  function certificateCard(cert, onRevoked) {
    const status = cert.status || "";
    const card = el("section", { class: "card", "data-testid": "certificate", "data-number": cert.number, "data-status": status,
      style: "margin-top:12px;border-left:4px solid #b3241b" });
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
    const form = el("form", { class: "card", novalidate: "", "data-testid": "certificate-form", style: "margin-top:12px", on: { submit: async (e) => {
      e.preventDefault();
      clear(box, notice);
      const value = (n) => form.elements[n].value.trim();
      // A volunteer number (or whole ID number) is looked up exactly; an id
      // is passed on as it is, so the service names it if it is wrong.
      let volunteer = value("volunteer_id");
      if (volunteer && !UUID.test(volunteer)) {
        try {
          volunteer = (await resolveVolunteer(volunteer)) || volunteer;
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
    el("div", { style: GRID },
      label("volunteerId", input("volunteer_id", { value: volunteerId || "", style: "min-width:300px" })),
      label("startMonth", input("start_month", { type: "month" })),
      label("endMonth", input("end_month", { type: "month" }))),
    el("div", { style: GRID },
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
      placeholder: T("numberPlaceholder"), style: "min-width:260px", autocomplete: "off" });
    const go = el("button", { type: "submit", "data-testid": "verify-submit", text: T("verifyButton") });
    const form = el("form", { class: "card", novalidate: "", "data-testid": "verify-form", style: "margin-top:12px", on: { submit: async (e) => {
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
          el("p", { "data-testid": "verify-verdict", style: `font-weight:600;color:${valid ? "#1e7b34" : "#b3241b"}`,
            text: valid ? `✔ ${T("verifyValid")}` : `✘ ${T("verifyRevoked")}` }),
          facts("verify-facts", [
            ["number", data.number], ["nameMasked", data.name_masked],
            ["hours", hoursText(data.hours), "verify-hours", data.hours],
            ["issuerName", data.issuer_name], ["issuedOn", day(data.issued_on)],
            ["status", T(data.status), "verify-status", data.status],
          ]));
      } catch (err) { showError(box, err); } finally { go.disabled = false; }
    } } },
    el("h3", { text: T("verify") }), el("p", { style: "color:#666;margin:0", text: T("verifyHelp") }),
    el("div", { class: "tools" }, number, go), box, result);
    // Verify a number from elsewhere on the page (a row of the list).
    form.check = (n) => { number.value = n; form.requestSubmit(); form.scrollIntoView({ block: "nearest" }); };
    return form;
  }

  function manageBox(changed) {
    const number = el("input", { name: "manage_number", "data-testid": "manage-number", "aria-label": T("number"),
      placeholder: T("numberPlaceholder"), style: "min-width:260px", autocomplete: "off" });
    const slot = el("div", { "data-testid": "manage-result" });
    const box = errorBox("manage-error");
    const pick = () => {
      const n = number.value.trim().toUpperCase();
      clear(box);
      if (!n) { slot.replaceChildren(); return; }
      slot.replaceChildren(certificateActions(n, (cert) => { slot.replaceChildren(certificateCard(cert, changed)); changed?.(); }));
    };
    number.addEventListener("change", pick);
    return el("section", { class: "card", "data-testid": "manage-certificate", style: "margin-top:12px" },
      el("h3", { text: T("manage") }), el("p", { style: "color:#666;margin:0", text: T("manageHelp") }),
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
      const actions = el("td", { "data-col": "actions", style: "white-space:nowrap" },
        button("download", "download", () => downloadPdf(c.number, rowBox)),
        button("verify", "verifyButton", () => verifier.check(c.number)));
      if (c.status === "CERTIFICATE_STATUS_VALID") {
        // Revoking asks for a reason in a row of its own beneath this one.
        actions.append(button("revoke", "revokeOpen", () => {
          const open = tr.nextElementSibling?.dataset.testid === "cert-revoke-row" ? tr.nextElementSibling : null;
          if (open) { open.remove(); return; }
          tr.after(el("tr", { "data-testid": "cert-revoke-row", "data-number": c.number },
            el("td", { colspan: String(cols.length), style: "text-align:left" },
              certificateActions(c.number, () => load(), false))));
        }));
      }
      actions.append(rowBox);
      tr.append(
        el("td", { "data-col": "number", text: c.number }),
        el("td", { "data-col": "name", text: c.name_masked }),
        el("td", { "data-col": "hours", "data-value": String(c.hours), text: hoursText(c.hours) }),
        el("td", { "data-col": "period", text: `${month(period.start_month)} – ${month(period.end_month)}` }),
        el("td", { "data-col": "issuer", style: LEFT, text: c.issuer_name }),
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

    const node = el("section", { class: "card", "data-testid": "cert-list", "data-volunteer": volunteerId || "",
      style: "margin-top:12px" },
    el("h3", { text: volunteerId ? T("certListVolunteer") : T("certListLatest") }),
    el("div", { class: "tools" }, status), box, table, empty,
    el("div", { class: "tools" }, prev, next, total));
    // After an issue or revocation elsewhere: back to the first page.
    const reload = () => { token = ""; trail.length = 0; return load(); };
    return { node, load, reload };
  }

  // -- volunteer totals --------------------------------------------------------

  async function totalsCard(volunteerId) {
    const card = el("section", { class: "card", "data-testid": "volunteer-totals", "data-volunteer": volunteerId, style: "margin-top:12px" });
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
      message.textContent = `volunteer: ${T("noTotals")}`;
      message.dataset.field = "volunteer_id"; message.dataset.rule = "volunteer_id.exists";
    }

    const form = el("form", { class: "tools", novalidate: "", "data-testid": "records-filters", style: "flex-wrap:wrap;align-items:flex-end",
      on: { submit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        ["status", "volunteer", "division"].forEach((n) => { const v = form.elements[n].value.trim(); if (v) q.set(n, v); });
        zy.go(q.toString() ? `${ROUTE}?${q}` : ROUTE);
      } } },
    label("status", el("select", { name: "status", "data-testid": "records-status" },
      el("option", { value: "", text: T("allStatuses") }), STATUSES.map((s) => el("option", { value: s, text: T(s) })))),
    label("volunteerFilter", el("input", { name: "volunteer", "data-testid": "records-volunteer", value: volunteerAsked,
      autocomplete: "off", style: "min-width:300px" })),
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
    el("td", { "data-col": "content", style: LEFT, text: r.content }),
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
    const certs = el("div", { "data-testid": "certificates" }, el("h2", { style: "margin:18px 0 0", text: T("certificates") }),
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
      placeholder: T("reasonHelp"), style: "min-width:420px" });
    const mode = (value, key) => el("label", { style: "margin-right:16px" },
      el("input", { type: "radio", name: "mode", value, "data-testid": `correction-mode-${value}`,
        ...(value === "amend" ? { checked: "" } : {}),
        on: { change: () => { hours.disabled = value === "reverse"; } } }), ` ${T(key)}`);
    const submit = el("button", { type: "submit", "data-testid": "correction-submit", text: T("submitCorrection") });
    const form = el("form", { class: "card", novalidate: "", "data-testid": "correction-form", style: "margin-top:12px", on: { submit: async (e) => {
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
    el("div", { style: GRID }, label("newHours", hours), label("reason", reason)),
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
    const history = el("section", { class: "card", "data-testid": "corrections", "data-count": String(fixes.length), style: "margin-top:12px" },
      el("h3", { text: T("corrections") }),
      fixes.length ? el("table", {}, head(["when", "kind", "change", "delta", "reason", "actor"], ["reason"]),
        el("tbody", {}, fixes.map((c) => el("tr", { "data-testid": "correction-row", "data-id": c.id, "data-kind": c.kind,
          "data-previous": String(c.previous_hours), "data-new": String(c.new_hours), "data-delta": String(c.delta_hours),
          "data-actor": c.actor },
        el("td", { "data-col": "when", text: when(c.created_at) }),
        el("td", { "data-col": "kind", text: T(c.kind) }),
        el("td", { "data-col": "change", text: `${zy.num(c.previous_hours)} → ${zy.num(c.new_hours)}` }),
        el("td", { "data-col": "delta", text: `${c.delta_hours > 0 ? "+" : ""}${zy.num(c.delta_hours)}` }),
        el("td", { "data-col": "reason", style: LEFT, text: c.reason }),
        el("td", { "data-col": "actor", text: c.actor })))))
        : el("p", { class: "empty", "data-testid": "corrections-empty", text: T("noCorrections") }));

    const reload = async (message) => {
      await renderRecord(id, true);
      const notice = zy.view().querySelector("[data-testid=correction-notice]");
      if (notice) notice.textContent = message;
    };
    const correction = r.status === "RECORD_STATUS_APPROVED" ? correctionForm({ ...r, effective_hours: data.effective_hours }, reload)
      : el("section", { class: "card", "data-testid": "correction-closed", style: "margin-top:12px" },
        el("h3", { text: T("correct") }), el("p", { text: T("onlyApproved") }));
    let totals;
    try { totals = await totalsCard(r.volunteer_id); } catch (err) { return undefined; }
    if (location.hash !== asked) return undefined;
    view.replaceChildren(detail, history, correction, totals);
    return undefined;
  }

  zy.pages["/records"] = async (rest, params) => {
    const id = (rest || "").split("/")[0];
    await zy.serviceFields().catch(() => {}); // labels fall back to the codes
    return id ? renderRecord(decodeURIComponent(id)) : renderList(params);
  };
})();
