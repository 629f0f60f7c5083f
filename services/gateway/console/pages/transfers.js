// Transfers page (#/transfers, 记录转移接续): the transfers leaving the
// user's subtree (outgoing) and arriving in it (incoming), with the
// volunteer's consent and the decision; the new home's office accepts or
// refuses a pending one, the old home's office may cancel it or file one
// for a volunteer of its own. Cards, not a wide table: usable at 390 px.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const t = zy.scoped("tf");
  const STATUSES = ["pending", "accepted", "refused", "cancelled"];
  const statusOf = (x) => String(x.status || "").replace("TRANSFER_STATUS_", "").toLowerCase();
  const place = (code, name) => (name ? `${name} (${code})` : code);
  const inside = (scope, code) => Boolean(scope) && String(code || "").startsWith(scope);

  function card(x, scope, act) {
    const status = statusOf(x);
    const row = (label, value) => el("div", { class: "kv" }, el("span", { class: "muted", text: `${t(label)}: ` }),
      el("span", { text: value }));
    const buttons = [];
    if (status === "pending" && inside(scope, x.to_division_code)) {
      buttons.push(el("button", { type: "button", "data-testid": "transfer-accept", text: t("accept"),
        on: { click: () => act(x, "accept") } }));
      buttons.push(el("button", { type: "button", class: "secondary", "data-testid": "transfer-refuse",
        text: t("refuse"), on: { click: () => act(x, "refuse") } }));
    }
    if (status === "pending" && inside(scope, x.from_division_code)) {
      buttons.push(el("button", { type: "button", class: "secondary", "data-testid": "transfer-cancel",
        text: t("cancel"), on: { click: () => act(x, "cancel") } }));
    }
    return el("li", { class: "card", "data-id": x.id, "data-status": status, "data-testid": "transfer" },
      el("strong", { text: `${x.volunteer_name} · ${x.volunteer_number}` }),
      el("span", { class: `badge ${status}`, "data-col": "status", text: ` ${t(`status_${status}`)}` }),
      row("from", place(x.from_division_code, x.from_division_name)),
      row("to", place(x.to_division_code, x.to_division_name)),
      row("requested", `${zy.when(x.requested_at)} · ${x.requested_by}`),
      row("consent", `${zy.when(x.consented_at)} · ${t(`channel_${x.consent_channel}`)}`
        + (x.consent_note ? ` · ${x.consent_note}` : "")),
      x.decided_at ? row("decided", `${zy.when(x.decided_at)} · ${x.decided_by}`) : "",
      x.reason ? row("reason", x.reason) : "",
      buttons.length ? el("div", { class: "tools" }, buttons) : "");
  }

  function fileForm(onFiled) {
    const error = el("p", { class: "error", "data-testid": "transfer-form-error" });
    const notice = el("p", { class: "notice", "data-testid": "transfer-notice" });
    const field = (label, control) => el("label", { class: "field" }, el("span", { text: t(label) }), control);
    const form = el("form", { class: "card form", "data-testid": "transfer-form", on: { submit: async (e) => {
      e.preventDefault();
      zy.clearError(error); notice.textContent = "";
      const f = form.elements;
      const body = { to_division_code: f.to_division_code.value.trim(), consent: f.consent.checked,
        consent_note: f.consent_note.value.trim() };
      try {
        const got = await zy.post(`/volunteers/${encodeURIComponent(f.volunteer_id.value.trim())}/transfers`, body);
        notice.textContent = `${t("filed")}: ${got.transfer.volunteer_number}`;
        form.reset();
        onFiled();
      } catch (err) {
        if (err.status !== 401) zy.showError(error, err);
      }
    } } },
    el("h3", { text: t("fileTitle") }), el("p", { class: "muted", text: t("fileHelp") }),
    el("div", { class: "grid row" },
      field("volunteerId", el("input", { name: "volunteer_id", required: "", autocomplete: "off",
        "data-testid": "transfer-volunteer", "aria-label": t("volunteerId") })),
      field("toCode", el("input", { name: "to_division_code", required: "", inputmode: "numeric",
        "data-testid": "transfer-to", "aria-label": t("toCode") })),
      field("note", el("input", { name: "consent_note", required: "", maxlength: "200",
        "data-testid": "transfer-note", "aria-label": t("note") }))),
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "consent", "data-testid": "transfer-consent" }),
      el("span", { text: ` ${t("consentBox")}` })),
    el("div", { class: "tools" }, el("button", { type: "submit", "data-testid": "transfer-submit", text: t("submit") })),
    error, notice);
    return form;
  }

  async function renderTransfers(_rest, params) {
    const view = zy.view();
    view.replaceChildren(el("p", { text: t("loading") }));
    const state = { direction: params?.get?.("direction") || "incoming", status: params?.get?.("status") || "pending" };
    let me;
    try {
      me = await zy.get("/me");
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status !== 401) view.replaceChildren(el("p", { class: "error", text: t("failed") }));
      return undefined;
    }
    const scope = me.scope_code || "";
    const list = el("ul", { class: "cards", "data-testid": "transfer-list" });
    const error = el("p", { class: "error", "data-testid": "transfer-error" });
    const notice = el("p", { class: "notice", "data-testid": "transfer-done" });

    async function load() {
      zy.clearError(error);
      const query = new URLSearchParams();
      if (state.direction !== "all") query.set("direction", state.direction);
      if (state.status) query.set("status", state.status);
      try {
        const rows = await zy.allPages(`/transfers?${query}`, "transfers");
        list.replaceChildren(...(rows.length ? rows.map((x) => card(x, scope, act))
          : [el("li", { class: "empty", text: t("empty") })]));
      } catch (err) {
        if (err.status !== 401) zy.showError(error, err);
      }
    }

    async function act(x, verb) {
      zy.clearError(error);
      notice.textContent = "";
      let body = {};
      if (verb === "refuse") {
        const reason = window.prompt(t("reasonPrompt"));
        if (reason === null) return;
        body = { reason };
      }
      try {
        await zy.post(`/transfers/${encodeURIComponent(x.id)}/${verb}`, body);
        notice.textContent = t(verb === "accept" ? "accepted" : verb === "refuse" ? "refused" : "cancelled");
        await load();
      } catch (err) {
        if (err.status !== 401) zy.showError(error, err);
      }
    }

    const direction = el("select", { "data-testid": "transfer-direction", "aria-label": t("title"), on: { change: () => {
      state.direction = direction.value; load();
    } } }, ["incoming", "outgoing", "all"].map((d) => el("option", { value: d, text: t(d) })));
    direction.value = state.direction;
    const status = el("select", { "data-testid": "transfer-status", "aria-label": t("status"), on: { change: () => {
      state.status = status.value; load();
    } } }, el("option", { value: "", text: t("status_all") }),
    STATUSES.map((s) => el("option", { value: s, text: t(`status_${s}`) })));
    status.value = state.status;

    view.replaceChildren(el("section", { class: "card" }, el("h2", { text: t("title") }),
      el("div", { class: "tools" }, direction, status), error, notice, list), fileForm(load));
    await load();
    return undefined;
  }

  zy.pages["/transfers"] = renderTransfers;
})();
