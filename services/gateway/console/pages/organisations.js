// Organisations page (#/organisations): the organisations and teams of the
// user's scope as a tree (teams nested under their parent), and a form that
// creates an organisation or a team.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t } = zy;
  // Layout of the forms, inline: app.css is shared with the other pages.


  const kindOf = (o) => String(o.kind || "").replace("ORGANISATION_KIND_", "").toLowerCase();

  const { showError } = zy;

  const allOrganisations = () => zy.allPages("/organisations", "organisations");

  // Nested lists: every organisation under its parent; one whose parent is
  // outside the scope (or missing) is shown at the top.
  function tree(orgs) {
    const byId = new Map(orgs.map((o) => [o.id, o]));
    const children = new Map();
    const roots = [];
    orgs.forEach((o) => {
      if (o.parent_id && byId.has(o.parent_id) && o.parent_id !== o.id) {
        if (!children.has(o.parent_id)) children.set(o.parent_id, []);
        children.get(o.parent_id).push(o);
      } else roots.push(o);
    });
    const byName = (a, b) => a.name.localeCompare(b.name, "zh");
    const seen = new Set();
    const list = (items, depth) => el("ul", depth ? { class: "org-children" } : { class: "org-tree", "data-testid": "org-tree" },
      items.sort(byName).filter((o) => !seen.has(o.id)).map((o) => {
        seen.add(o.id);
        const kind = kindOf(o);
        const kids = children.get(o.id) || [];
        return el("li", { "data-id": o.id, "data-kind": kind, "data-parent": o.parent_id || "", "data-division": o.division_code },
          el("span", { class: "org-name", "data-col": "name", text: o.name }),
          el("span", { class: `org-kind ${kind}`, text: ` · ${t(`kind_${kind}`)} · ${o.division_code}` }),
          kids.length ? list(kids, depth + 1) : "");
      }));
    return list(roots, 0);
  }

  async function renderOrganisations() {
    const view = zy.view();
    view.replaceChildren(el("p", { text: t("loading") }));
    let me, orgs;
    try {
      me = await (await zy.api("/me")).json();
      orgs = await allOrganisations();
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status !== 401) view.replaceChildren(el("p", { class: "error", text: t("failed") }));
      return undefined;
    }

    const holder = el("div", { "data-testid": "org-tree-holder" });
    const summary = el("span", { "data-testid": "org-total" });
    const parent = el("select", { name: "parent_id", "data-testid": "org-parent", "aria-label": t("orgParent") });
    const draw = () => {
      // An empty tree still carries the org-tree hook, so tests can wait on it.
      holder.replaceChildren(orgs.length ? tree(orgs) : el("p", { class: "empty", "data-testid": "org-tree", text: t("orgEmpty") }));
      summary.textContent = `${t("orgTotal")} ${zy.num(orgs.length)} ${t("orgCount")}`.trim();
      summary.dataset.total = orgs.length;
      const chosen = parent.value;
      parent.replaceChildren(el("option", { value: "", text: t("orgNoParent") }),
        ...[...orgs].sort((a, b) => a.name.localeCompare(b.name, "zh"))
          .map((o) => el("option", { value: o.id, text: `${o.name} (${o.division_code})` })));
      parent.value = chosen;
    };

    const error = el("p", { class: "error", "data-testid": "org-form-error" });
    const notice = el("p", { class: "notice", "data-testid": "org-notice" });
    const field = (label, control) => el("label", { class: "field" }, el("span", { text: t(label) }), control);
    const kind = el("select", { name: "kind", "data-testid": "org-kind", "aria-label": t("orgKind") },
      ["team", "organisation"].map((k) => el("option", { value: k, text: t(`kind_${k}`) })));
    const form = el("form", { class: "card form", "data-testid": "org-form", on: { submit: async (e) => {
      e.preventDefault();
      error.textContent = ""; error.dataset.field = ""; notice.textContent = "";
      const payload = {
        name: form.elements.name.value.trim(), kind: kind.value,
        division_code: form.elements.division_code.value.trim(), parent_id: parent.value,
      };
      try {
        const r = await zy.api("/organisations", { method: "POST",
          headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
        const created = (await r.json()).organisation;
        notice.textContent = `${t("orgCreated")}: ${created.name}`;
        notice.dataset.id = created.id;
        form.elements.name.value = "";
        orgs = await allOrganisations();
        draw();
      } catch (err) {
        if (err.status !== 401) showError(error, err);
      }
    } } },
    el("h3", { text: t("orgCreate") }),
    el("div", { class: "grid row" },
      field("orgName", el("input", { name: "name", "data-testid": "org-name", required: "", autocomplete: "off", "aria-label": t("orgName") })),
      field("orgKind", kind),
      field("orgDivision", zy.divisions.picker(el("input", { name: "division_code", "data-testid": "org-division", required: "",
        inputmode: "numeric", value: me.scope_code || "", "aria-label": t("orgDivision") }), me.scope_code || "")),
      field("orgParent", parent)),
    el("div", { class: "tools" }, el("button", { type: "submit", "data-testid": "org-submit", text: t("orgSubmit") })),
    error, notice);

    draw();
    view.replaceChildren(el("section", { class: "card" }, el("h2", { text: t("orgTitle") }),
      el("div", { class: "tools" }, summary), holder), form);
    return undefined;
  }

  zy.pages["/organisations"] = renderOrganisations;
})();
