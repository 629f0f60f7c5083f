// Complaints (投诉) about volunteers (#/complaints): the queue of complaints
// kept in the caller's scope, oldest first, filtered by status (and by a
// volunteer, ?volunteer=<id>); a form to record one about a volunteer who
// served here, optionally naming the record (a record's detail links here
// with ?volunteer=&record=); and, for each open or answered complaint, its
// outcome, upheld or dismissed, with a note. The volunteer's reply shows
// as it came from the phone app. Cards, not a wide table: usable at 390 px.
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, showError, when } = zy;
  const T = zy.scoped("cp");
  const ROUTE = "#/complaints";
  const STATUSES = ["COMPLAINT_STATUS_OPEN", "COMPLAINT_STATUS_REPLIED", "COMPLAINT_STATUS_UPHELD", "COMPLAINT_STATUS_DISMISSED"];
  const enc = encodeURIComponent;
  const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}) });
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const noticeBox = (id) => el("p", { class: "notice good", role: "status", "data-testid": id });
  const label = (key, control) => el("label", { class: "field" }, el("span", { text: T(key) }), control);
  const clear = (...nodes) => nodes.forEach((n) => { n.textContent = ""; });

  function fileForm(params, done) {
    const box = errorBox("complaint-error");
    const volunteer = el("input", { name: "volunteer_id", "data-testid": "complaint-volunteer", value: params.get("volunteer") || "" });
    const record = el("input", { name: "record_id", "data-testid": "complaint-record", value: params.get("record") || "" });
    const text = el("textarea", { name: "text", rows: "3", maxlength: "1000", "data-testid": "complaint-text",
      placeholder: T("textHelp"), "aria-label": T("textHelp") });
    const submit = el("button", { type: "submit", "data-testid": "complaint-submit", text: T("submitFile") });
    return el("form", { class: "card spaced", novalidate: "", "data-testid": "complaint-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(box);
      submit.disabled = true;
      try {
        const body = { volunteer_id: volunteer.value.trim(), record_id: record.value.trim(), text: text.value };
        await (await zy.api("/complaints", json(body))).json();
        await done(T("filed"));
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("fileTitle") }),
    el("div", { class: "row bottom" }, label("volunteer", volunteer), label("record", record), label("text", text)),
    el("div", { class: "tools" }, submit), box);
  }

  function decideForm(c, done) {
    const box = errorBox("decide-error");
    const note = el("textarea", { name: "note", rows: "2", maxlength: "500", "data-testid": "decide-note",
      placeholder: T("note"), "aria-label": T("note") });
    const decide = (outcome) => async () => {
      clear(box);
      try {
        await zy.api(`/complaints/${enc(c.id)}/decide`, json({ outcome, note: note.value }));
        await done(T("decided"));
      } catch (err) {
        if (err.status !== 401) showError(box, err);
      }
    };
    return el("div", { "data-testid": "decide-form" }, label("note", note),
      el("div", { class: "tools wrap" },
        el("button", { type: "button", "data-testid": "decide-upheld", text: T("upheld"), on: { click: decide("upheld") } }),
        el("button", { type: "button", "data-testid": "decide-dismissed", text: T("dismissed"), on: { click: decide("dismissed") } })),
      box);
  }

  function complaintCard(c, done) {
    const open = c.status === "COMPLAINT_STATUS_OPEN" || c.status === "COMPLAINT_STATUS_REPLIED";
    return el("article", { class: "card spaced", "data-testid": "complaint", "data-id": c.id, "data-status": c.status },
      el("dl", { class: "facts" },
        el("dt", { class: "muted", text: T("status") }), el("dd", { class: "flush", "data-testid": "complaint-status", text: T(c.status) }),
        el("dt", { class: "muted", text: T("volunteer") }),
        el("dd", { class: "flush", "data-volunteer": c.volunteer_id,
          text: `${c.volunteer_number} ${zy.volunteerNames.name(c.volunteer_id)}`.trim() }),
        el("dt", { class: "muted", text: T("filedAt") }), el("dd", { class: "flush", text: `${when(c.filed_at)} · ${c.filed_by}` }),
        el("dt", { class: "muted", text: T("division") }), el("dd", { class: "flush", text: c.division_code }),
        el("dt", { class: "muted", text: T("text") }), el("dd", { class: "flush prose", text: c.text }),
        el("dt", { class: "muted", text: T("reply") }),
        el("dd", { class: "flush prose", "data-testid": "complaint-reply", text: c.reply || T("noReply") }),
        ...(c.decided_at ? [el("dt", { class: "muted", text: T("decision") }),
          el("dd", { class: "flush prose", text: `${c.decision_note} · ${c.decided_by} · ${when(c.decided_at)}` })] : [])),
      c.record_id ? el("a", { href: `#/records/${enc(c.record_id)}`, text: T("openRecord") }) : "",
      open ? decideForm(c, done) : "");
  }

  async function renderComplaints(params) {
    const view = zy.view();
    const asked = location.hash;
    const status = params.get("status") || "";
    const volunteer = params.get("volunteer") || "";
    view.replaceChildren(el("p", { text: T("loading") }));
    const query = new URLSearchParams({ page_size: "100" });
    if (status) query.set("status", status);
    if (volunteer) query.set("volunteer_id", volunteer);
    let data;
    try {
      data = await get(`/complaints?${query}`);
    } catch (err) {
      if (location.hash !== asked || err.status === 401) return undefined;
      if (err.status === 403) return zy.renderDenied();
      const box = errorBox("complaints-error");
      showError(box, err);
      view.replaceChildren(box);
      return undefined;
    }
    const items = data.complaints || [];
    await zy.volunteerNames.load(items.map((c) => c.volunteer_id)).catch(() => null);
    if (location.hash !== asked) return undefined;
    const notice = noticeBox("complaints-notice");
    const done = async (message) => {
      await renderComplaints(params);
      const shown = zy.view().querySelector("[data-testid=complaints-notice]");
      if (shown) shown.textContent = message;
    };
    const pick = el("select", { name: "status", "data-testid": "complaints-status", "aria-label": T("status") },
      el("option", { value: "", text: T("allStatuses") }),
      STATUSES.map((s) => el("option", { value: s, text: T(s), ...(s === status ? { selected: "" } : {}) })));
    const filter = el("form", { class: "tools wrap bottom", "data-testid": "complaints-filter", on: { submit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams(params);
      if (pick.value) next.set("status", pick.value); else next.delete("status");
      location.hash = `${ROUTE}?${next}`;
    } } }, label("status", pick), el("button", { type: "submit", text: T("apply") }));
    view.replaceChildren(
      el("section", { class: "card", "data-testid": "complaints-queue", "data-count": String(items.length) },
        el("h2", { text: T("queue") }), filter, notice,
        items.length ? el("div", {}, items.map((c) => complaintCard(c, done)))
          : el("p", { class: "empty", "data-testid": "complaints-empty", text: T("empty") })),
      fileForm(params, done));
    return undefined;
  }

  zy.pages["/complaints"] = (rest, params) => renderComplaints(params);
})();
