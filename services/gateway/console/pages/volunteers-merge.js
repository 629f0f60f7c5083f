// Merging duplicate registrations (issue 14), part of the volunteers page:
// #/volunteers/merge/<survivor id> finds the duplicate in the user's scope
// (by volunteer number or whole ID number: names are only shown masked, so
// the API cannot search by them), shows both records side by side, asks a
// reason and a confirmation, then merges (POST /volunteers/{id}/merge);
// #/volunteers/merges lists the merges with a revert (POST /merges/{id}/revert,
// asking why: the reason is kept with the merge and shown on its card).
"use strict";

(() => {
  const zy = window.zy;
  const { el, t, showError, clearError } = zy;
  const enc = encodeURIComponent;
  const colon = () => (zy.lang() === "zh" ? "：" : ": ");
  const statusOf = (v) => String(v.status || "").replace("VOLUNTEER_STATUS_", "").toLowerCase();

  // Approved hours of a volunteer (one call; none recorded is 0).
  async function hoursOf(id) {
    try {
      return zy.num((await zy.get(`/hours/volunteers/${enc(id)}/totals`)).approved_hours || 0);
    } catch (err) {
      if (err.status === 401) throw err;
      return err.status === 404 ? zy.num(0) : "—";
    }
  }

  // One record of the comparison: a fieldset named for the request field it
  // fills, so an error naming that field reads with this legend.
  function recordBox(v, hours, field, legend) {
    const fact = (label, value, col) => [el("dt", { text: t(label) }), el("dd", { "data-col": col, text: value })];
    return el("fieldset", { class: "card merge-side", "data-field": field, "data-id": v.id, "data-testid": `merge-${field}` },
      el("legend", { text: t(legend) }),
      el("dl", { class: "facts" },
        fact("volNumber", v.volunteer_number, "volunteer_number"), fact("volName", v.name, "name"),
        fact("volIdNumber", v.id_number, "id_number"), fact("volHome", v.home_division_code, "home_division_code"),
        fact("volStatus", t(`status_${statusOf(v)}`), "status"), fact("vmHours", hours, "hours")));
  }

  async function mergePage(survivorId) {
    const view = zy.view();
    view.replaceChildren(el("p", { text: t("loading") }));
    let survivor;
    let survivorHours;
    try {
      survivor = (await zy.get(`/volunteers/${enc(survivorId)}`)).volunteer;
      survivorHours = await hoursOf(survivor.id);
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status !== 401) { const p = el("p", { class: "error" }); showError(p, err); view.replaceChildren(p); }
      return undefined;
    }

    const findError = el("p", { class: "error", "data-testid": "merge-find-error" });
    const results = el("ul", { class: "cards merge-cards", "data-testid": "merge-candidates" });
    const compare = el("div", { class: "compare", "data-testid": "merge-compare" });
    const formError = el("p", { class: "error", "data-testid": "merge-form-error" });
    const result = el("div", { class: "notice", "data-testid": "merge-result" });
    const reason = el("textarea", { name: "reason", rows: "2", maxlength: "500", "data-testid": "merge-reason",
      "aria-label": t("vmReason"), placeholder: t("vmReasonHint") });
    const confirmText = el("p", { "data-testid": "merge-confirm-text" });
    const yes = el("button", { type: "button", "data-testid": "merge-confirm-yes", text: t("vmConfirmYes") });
    const back = el("button", { type: "button", class: "secondary", text: t("vmConfirmBack"), on: { click: () => { confirmBox.hidden = true; } } });
    const confirmBox = el("div", { class: "callout", hidden: "", "data-testid": "merge-confirm" }, confirmText, el("div", { class: "tools" }, yes, back));
    let merged = null;

    async function pick(v) {
      merged = v;
      clearError(formError); confirmBox.hidden = true;
      compare.replaceChildren(recordBox(survivor, survivorHours, "survivor_id", "vmSurvivor"),
        recordBox(v, await hoursOf(v.id), "merged_id", "vmMerged"));
      form.hidden = false;
      form.scrollIntoView({ block: "start" });
    }

    const search = el("input", { type: "search", name: "q", autocomplete: "off", "data-testid": "merge-search",
      "aria-label": t("vmFind"), placeholder: t("volSearch") });
    const finder = el("form", { class: "card form", "data-testid": "merge-find-form", on: { submit: async (e) => {
      e.preventDefault();
      clearError(findError); results.replaceChildren();
      const q = search.value.trim();
      if (!q) return;
      try {
        const list = ((await zy.get(`/volunteers?${new URLSearchParams({ q, page_size: "20" })}`)).volunteers || [])
          .filter((v) => v.id !== survivor.id && statusOf(v) !== "merged");
        if (!list.length) {
          // Not in the user's scope, or no one: the duplicate cannot be named.
          findError.textContent = `${t("vmMerged")}${colon()}${t("vmNotFound")}`;
          findError.dataset.field = "merged_id";
          return;
        }
        results.replaceChildren(...list.map((v) => el("li", { class: "card", "data-id": v.id, "data-testid": "merge-candidate" },
          el("strong", { text: `${v.volunteer_number} ${v.name}` }),
          el("span", { class: "muted", text: ` ${v.id_number} · ${v.home_division_code} · ${t(`status_${statusOf(v)}`)}` }),
          el("div", { class: "tools" }, el("button", { type: "button", "data-action": "pick", text: t("vmPick"), on: { click: () => pick(v) } })))));
      } catch (err) {
        if (err.status !== 401) showError(findError, err);
      }
    } } },
    el("h3", { text: t("vmFind") }), el("p", { class: "hint", text: t("vmFindHelp") }),
    el("div", { class: "row" }, search, el("button", { type: "submit", "data-testid": "merge-find", text: t("volFind") })),
    findError, results);

    const form = el("form", { class: "card form spaced", novalidate: "", hidden: "", "data-testid": "merge-form", on: { submit: (e) => {
      e.preventDefault();
      clearError(formError);
      confirmText.textContent = t("vmConfirmText").replaceAll("{merged}", merged.volunteer_number).replaceAll("{survivor}", survivor.volunteer_number);
      confirmBox.hidden = false;
    } } },
    el("h3", { text: t("vmCompare") }), compare,
    el("label", { class: "field" }, el("span", { text: t("vmReason") }), reason),
    el("p", { class: "hint", text: t("vmWhatHappens") }),
    el("div", { class: "tools" }, el("button", { type: "submit", "data-testid": "merge-submit", text: t("vmSubmit") })),
    confirmBox, formError);

    yes.addEventListener("click", async () => {
      clearError(formError);
      yes.disabled = true;
      try {
        const got = (await zy.post(`/volunteers/${enc(survivor.id)}/merge`, { merged_id: merged.id, reason: reason.value.trim() })).merge;
        form.hidden = true; finder.hidden = true;
        result.dataset.id = got.id;
        result.replaceChildren(el("p", { text: `${t("vmDone")}${colon()}${got.merged_number} → ${got.survivor_number}` }),
          el("div", { class: "tools" }, el("a", { href: "#/volunteers/merges", "data-testid": "merge-list-link", text: t("vmList") }),
            el("a", { href: "#/volunteers", text: t("navVolunteers") })));
      } catch (err) {
        confirmBox.hidden = true;
        if (err.status !== 401) showError(formError, err);
      } finally { yes.disabled = false; }
    });

    view.replaceChildren(
      el("section", { class: "card" }, el("h2", { text: t("vmTitle") }),
        el("p", { text: `${t("vmSurvivor")}${colon()}${survivor.volunteer_number} ${survivor.name} (${survivor.home_division_code})` }),
        el("div", { class: "tools" }, el("a", { href: "#/volunteers", text: t("navVolunteers") }),
          el("a", { href: "#/volunteers/merges", text: t("vmList") }))),
      finder, form, result);
    return undefined;
  }

  function mergeCard(m, reload) {
    const live = !m.reverted_at;
    const error = el("p", { class: "error", "data-testid": "revert-error" });
    const row = (label, value, col) => el("div", { class: "kv" }, el("span", { class: "muted", text: `${t(label)}${colon()}` }),
      el("span", { "data-col": col, text: value }));
    // Why the merge is reverted: required, kept with the merge.
    const reason = el("textarea", { name: "reason", rows: "2", maxlength: "500", "data-testid": "revert-reason",
      "aria-label": t("vmRevertReason"), placeholder: t("vmRevertReasonHint") });
    const panel = el("div", { class: "callout", hidden: "", "data-testid": "revert-confirm" },
      el("p", { text: t("vmRevertText").replaceAll("{merged}", m.merged_number).replaceAll("{survivor}", m.survivor_number) }),
      el("label", { class: "field" }, el("span", { text: t("vmRevertReason") }), reason),
      el("div", { class: "tools" },
        el("button", { type: "button", "data-action": "revert-yes", text: t("vmRevertYes"), on: { click: async (e) => {
          const button = e.currentTarget;
          clearError(error);
          button.disabled = true;
          try {
            await zy.post(`/merges/${enc(m.id)}/revert`, { reason: reason.value });
            await reload(`${t("vmReverted")}${colon()}${m.merged_number}`);
          } catch (err) {
            if (err.status !== 401) showError(error, err);
            button.disabled = false;
          }
        } } }),
        el("button", { type: "button", class: "secondary", text: t("vmConfirmBack"), on: { click: () => { panel.hidden = true; } } })));
    return el("li", { class: "card", "data-testid": "merge", "data-id": m.id, "data-state": live ? "live" : "reverted",
      "data-merged": m.merged_id, "data-survivor": m.survivor_id },
    el("strong", { text: `${m.merged_number} → ${m.survivor_number}` }),
    el("span", { class: "badge", text: ` ${t(live ? "vmLive" : "vmRevertedBadge")}` }),
    row("vmMerged", `${m.merged_number} (${m.merged_division_code})`, "merged"),
    row("vmSurvivor", `${m.survivor_number} (${m.survivor_division_code})`, "survivor"),
    row("vmReason", m.reason, "reason"),
    row("vmBy", `${m.actor} · ${zy.when(m.created_at)}`, "created"),
    live ? "" : row("vmRevertedBy", `${m.reverted_by} · ${zy.when(m.reverted_at)}`, "reverted"),
    live || !m.revert_reason ? "" : row("vmRevertReason", m.revert_reason, "revert_reason"),
    live ? el("div", { class: "tools" }, el("button", { type: "button", class: "secondary", "data-action": "revert",
      text: t("vmRevert"), on: { click: () => { panel.hidden = false; } } })) : "",
    panel, error);
  }

  async function listPage() {
    const view = zy.view();
    const list = el("ul", { class: "cards merge-cards", "data-testid": "merge-list" });
    const error = el("p", { class: "error", "data-testid": "merges-error" });
    const notice = el("p", { class: "notice", "data-testid": "merges-notice" });
    const tokens = [""];
    const more = el("button", { type: "button", "data-testid": "merges-next", text: t("volNext"), on: { click: () => {
      if (more.dataset.token) { tokens.push(more.dataset.token); load(); }
    } } });

    async function load(done) {
      clearError(error);
      notice.textContent = done || "";
      const query = new URLSearchParams({ page_size: "50", page_token: tokens[tokens.length - 1] });
      try {
        const data = await zy.get(`/merges?${query}`);
        const rows = data.merges || [];
        list.replaceChildren(...(rows.length ? rows.map((m) => mergeCard(m, load))
          : [el("li", { class: "empty", text: t("vmEmpty") })]));
        more.dataset.token = data.page?.next_page_token || "";
        more.hidden = !more.dataset.token;
        list.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.status === 403) { zy.renderDenied(); return; }
        if (err.status !== 401) showError(error, err);
      }
    }

    view.replaceChildren(el("section", { class: "card" }, el("h2", { text: t("vmList") }),
      el("p", { class: "hint", text: t("vmListHelp") }),
      el("div", { class: "tools" }, el("a", { href: "#/volunteers", text: t("navVolunteers") })),
      error, notice, list, el("div", { class: "tools" }, more)));
    await load();
    return undefined;
  }

  zy.merges = { mergePage, listPage };
})();
