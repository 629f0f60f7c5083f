// Hour records: one record (#/records/<id>): its facts, its evaluation (评价,
// with a form to rate an approved record 1-5 or replace the rating), a link
// to record a complaint about the volunteer for this record, corrections, a
// correction form (new hours or a reversal, always with a reason) and the
// volunteer's totals. Part of the records page (records.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, showError } = zy;
  const kit = zy.records;
  const { ROUTE, T, fieldLabel, hoursText, when, enc, json, clear, errorBox, noticeBox, label, head, facts, failed, totalsCard } = kit;

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

  // The record's evaluation and, for an approved record, the form that
  // rates it (or replaces the rating): score 1 (差) to 5 (优) and a comment.
  function evaluationCard(record, evaluation, reload) {
    const shown = evaluation ? facts("evaluation-facts", [
      ["evalScore", `${evaluation.score} · ${T(`grade${evaluation.score}`)}`, "evaluation-score", evaluation.score],
      ["evalComment", evaluation.comment, "evaluation-comment"],
      evaluation.poor ? ["evalPoor", T("evalPoorYes"), "evaluation-poor", "true"] : null,
      ["evalBy", `${evaluation.evaluated_by} · ${when(evaluation.evaluated_at)}`],
      evaluation.replaced ? ["evalReplaced", zy.num(evaluation.replaced)] : null,
    ]) : el("p", { class: "empty", "data-testid": "evaluation-empty", text: T("evalNone") });
    const card = el("section", { class: "card spaced", "data-testid": "evaluation", "data-score": String(evaluation?.score ?? "") },
      el("h3", { text: T("evaluation") }), shown);
    if (record.status !== "RECORD_STATUS_APPROVED") {
      card.append(el("p", { class: "muted", text: T("evalOnlyApproved") }));
      return card;
    }
    const box = errorBox("evaluation-error");
    const notice = noticeBox("evaluation-notice");
    const score = el("select", { name: "score", "data-testid": "evaluation-score-input", "aria-label": T("evalScore") },
      [5, 4, 3, 2, 1].map((n) => el("option", { value: String(n), text: `${n} · ${T(`grade${n}`)}`,
        ...(String(evaluation?.score ?? 4) === String(n) ? { selected: "" } : {}) })));
    const comment = el("textarea", { name: "comment", rows: "2", maxlength: "500", "data-testid": "evaluation-comment-input",
      "aria-label": T("evalCommentHelp"), placeholder: T("evalCommentHelp"), class: "minw-420" });
    const submit = el("button", { type: "submit", "data-testid": "evaluation-submit",
      text: evaluation ? T("evalReplace") : T("evalSubmit") });
    const form = el("form", { novalidate: "", "data-testid": "evaluation-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(box, notice);
      submit.disabled = true;
      try {
        const body = { score: score.value, comment: comment.value };
        await (await zy.api(`/hours/records/${enc(record.id)}/evaluation`, json(body))).json();
        await reload(T("evalSaved"), "evaluation-notice");
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      } finally { submit.disabled = false; }
    } } },
    el("div", { class: "row bottom" }, label("evalScore", score), label("evalComment", comment)),
    el("div", { class: "tools" }, submit,
      el("a", { href: `#/complaints?volunteer=${enc(record.volunteer_id)}&record=${enc(record.id)}`,
        "data-testid": "complain-link", text: T("complainAbout") })), box, notice);
    card.append(form);
    return card;
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

    const reload = async (message, where = "correction-notice") => {
      await renderRecord(id, true);
      const notice = zy.view().querySelector(`[data-testid=${where}]`);
      if (notice) notice.textContent = message;
    };
    const rated = evaluationCard(r, data.evaluation, reload);
    const correction = r.status === "RECORD_STATUS_APPROVED" ? correctionForm({ ...r, effective_hours: data.effective_hours }, reload)
      : el("section", { class: "card spaced", "data-testid": "correction-closed" },
        el("h3", { text: T("correct") }), el("p", { text: T("onlyApproved") }));
    let totals;
    try { totals = await totalsCard(r.volunteer_id); } catch (err) { return undefined; }
    if (location.hash !== asked) return undefined;
    view.replaceChildren(detail, rated, history, correction, totals);
    return undefined;
  }

  kit.renderRecord = renderRecord;
})();
