// The hours review queue (#/hours): pending hour records in scope, each
// approved or rejected with a reason.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t, num, api, view, renderDenied, when } = zy;

  async function renderHours() {
    view().replaceChildren(el("p", { text: t("loading") }));
    const asked = location.hash;
    const r = await api("/hours/records?status=RECORD_STATUS_PENDING&page_size=100").catch((err) => err);
    if (location.hash !== asked) return undefined; // the user went elsewhere meanwhile
    if (r instanceof Error) {
      if (r.status === 403) return renderDenied();
      if (r.status !== 401) view().replaceChildren(el("p", { class: "error", text: t("failed") }));
      return undefined;
    }
    const records = (await r.json()).records || [];
    // Names beside the numbers and codes: one lookup per distinct
    // volunteer and per distinct parent division, not per row.
    await Promise.all([zy.divisions.load(records.map((rec) => rec.division_code)),
      zy.volunteerNames.load(records.map((rec) => rec.volunteer_id))]).catch(() => null);
    if (location.hash !== asked) return undefined;
    const act = async (id, verb, body) => {
      try {
        await api(`/hours/records/${id}/${verb}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
        renderHours();
      } catch (err) {
        if (err.status !== 401) alert(err.body?.error?.[zy.lang() === "zh" ? "message_zh" : "message_en"] || err.message);
      }
    };
    const rows = records.map((rec) => el("tr", { "data-id": rec.id },
      zy.volunteerNames.cell(rec.volunteer_id, rec.volunteer_number, { "data-col": "volunteer" }),
      zy.divisions.cell(rec.division_code, { "data-col": "division" }),
      el("td", { text: rec.content }), el("td", { text: when(rec.started_at) }), el("td", { text: num(rec.hours) }),
      el("td", {},
        el("button", { type: "button", "data-action": "approve", text: t("approve"), on: { click: () => act(rec.id, "approve") } }),
        el("button", { type: "button", "data-action": "reject", text: t("reject"), on: { click: () => {
          const reason = prompt(t("rejectReason"));
          if (reason) act(rec.id, "reject", { reason });
        } } }))));
    view().replaceChildren(el("section", { class: "card" }, el("h2", { text: t("hoursQueue") }),
      records.length ? el("table", { "data-testid": "hours-queue" },
        el("thead", {}, el("tr", {}, ["volunteer", "division", "content", "started", "hours", "actions"].map((h) => el("th", { text: t(h) })))),
        el("tbody", {}, rows)) : el("p", { "data-testid": "hours-empty", text: t("none") })));
    return undefined;
  }

  zy.pages["/hours"] = () => renderHours();
})();
