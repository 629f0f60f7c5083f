// Projects: a project's insurance cover card: what the tenant's policy asks
// of the project, the current cover, recording or replacing it, the covered
// volunteers and the insurer's CSV list. Part of the projects page
// (projects.js); the detail page (projects-detail.js) places it.
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError } = zy;
  const kit = zy.projects;
  const { T, when, enc, clear } = kit;
  const CLOSED = ["PROJECT_STATUS_COMPLETED", "PROJECT_STATUS_CANCELLED"];

  // The insurer's list as a file (the download needs the bearer token, so it
  // is fetched and handed to the browser, not linked).
  async function downloadCsv(project, box) {
    clear(box);
    try {
      const r = await zy.api(`/projects/${enc(project.id)}/insurance/volunteers.csv`);
      const url = URL.createObjectURL(await r.blob());
      const a = el("a", { href: url, download: `${T("insCsvName")}-${project.title}.csv` });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) { if (err.status !== 401) showError(box, err); }
  }

  function coverForm(project, cover, message, done) {
    const label = (text, node) => el("label", { class: "field" }, el("span", { text }), node);
    const input = (name, attrs = {}) => el("input", { name, "data-field": name, "data-testid": `ins-${name.replace(/_/g, "-")}`, autocomplete: "off", ...attrs });
    const insurer = input("insurer", { maxlength: "100", value: cover?.insurer || "" });
    const number = input("policy_number", { maxlength: "50", value: cover?.policy_number || "" });
    const start = input("starts_on", { type: "date", value: cover?.starts_on || "" });
    const end = input("ends_on", { type: "date", value: cover?.ends_on || "" });
    const form = el("form", { "data-testid": "insurance-form", class: "spaced" },
      el("div", { class: "row bottom" }, label(T("insInsurer"), insurer), label(T("insPolicy"), number)),
      el("div", { class: "row bottom" }, label(T("insStarts"), start), label(T("insEnds"), end),
        el("button", { type: "submit", "data-action": "save-insurance", text: T(cover ? "insReplace" : "insAdd") })));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clear(message);
      const body = { insurer: insurer.value.trim(), policy_number: number.value.trim(), starts_on: start.value, ends_on: end.value };
      try {
        await post(`/projects/${enc(project.id)}/insurance`, body, "PUT");
        done(T("insSaved"));
      } catch (err) {
        if (err.status !== 401) showError(message, err);
      }
    });
    return form;
  }

  // The card; `done(text)` reloads the page with a notice.
  function insuranceCard(project, me, done) {
    const message = el("p", { class: "error", "data-testid": "insurance-message" });
    const card = el("section", { class: "card spaced", id: "insurance", "data-testid": "insurance-card", "data-field": "insurance" },
      el("h3", { text: T("insTitle") }), el("p", { text: zy.t("loading") }));
    const manager = zy.inGroup(me, "managers");
    (async () => {
      let got;
      let people;
      try {
        [got, people] = await Promise.all([
          get(`/projects/${enc(project.id)}/insurance`),
          get(`/projects/${enc(project.id)}/insurance/volunteers?page_size=100`),
        ]);
      } catch (err) {
        card.replaceChildren(el("h3", { text: T("insTitle") }), message);
        if (err.status !== 401) showError(message, err);
        return;
      }
      const status = got.status || {};
      const cover = got.cover || null;
      const policy = el("p", { "data-testid": "insurance-policy", "data-required": String(Boolean(status.required)),
        class: status.required && !status.covers_sessions ? "error" : "muted",
        text: status.required ? T(status.covers_sessions ? "insRequiredOk" : "insRequiredMissing") : T("insOptional") });
      const parts = [el("h3", { text: T("insTitle") }), policy];
      if (cover) {
        const fact = (k, v, col) => [el("dt", { class: "muted", text: T(k) }), el("dd", { class: "flush", "data-col": col, text: v })];
        parts.push(el("dl", { class: "facts", "data-testid": "insurance-cover" },
          fact("insInsurer", cover.insurer, "insurer"), fact("insPolicy", cover.policy_number, "policy_number"),
          fact("insPeriod", `${cover.starts_on} – ${cover.ends_on}`, "period"),
          fact("insRecordedBy", `${cover.recorded_by} · ${when(cover.created_at)}`, "recorded_by"),
          fact("insCovered", zy.num(status.covered_volunteers || 0), "covered")));
      } else {
        parts.push(el("p", { class: "empty", "data-testid": "insurance-none", text: T("insNone") }));
      }
      const rows = people.volunteers || [];
      if (rows.length) {
        parts.push(el("table", { "data-testid": "insured-table" },
          el("thead", {}, el("tr", {}, ["volunteerNumber", "insSessions"].map((h) => el("th", { text: T(h) })))),
          el("tbody", {}, rows.map((x) => el("tr", { "data-id": x.volunteer_id },
            el("td", { "data-col": "volunteer_number", text: x.volunteer_number }),
            el("td", { "data-col": "sessions", text: zy.num(x.sessions) }))))));
      }
      if (manager && cover) {
        parts.push(el("div", { class: "tools wrap" }, el("button", { type: "button", "data-action": "insurance-csv", "data-testid": "insurance-csv",
          text: T("insCsv"), on: { click: () => downloadCsv(project, message) } }), el("span", { class: "muted", text: T("insCsvHelp") })));
      }
      if (manager && !CLOSED.includes(project.status)) parts.push(coverForm(project, cover, message, done));
      parts.push(message);
      card.replaceChildren(...parts);
    })();
    return card;
  }

  kit.insuranceCard = insuranceCard;
})();
