// Service positions page (#/positions, 志愿服务阵地): the guidance centres,
// street and town centres, village and community stations and bases of the
// user's subtree, filtered by kind; a form registers a position or, after
// "Edit" on a card, replaces one's fields (PUT). Cards, not a wide table:
// usable at 390 px.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const t = zy.scoped("ps");
  const KINDS = ["guidance_centre", "street_centre", "station", "base"];
  const LEVELS = ["district", "city", "province", "national"];
  const enc = encodeURIComponent;
  const kindOf = (x) => String(x.kind || "").replace("POSITION_KIND_", "").toLowerCase();
  const levelOf = (x) => String(x.base_level || "").replace("BASE_LEVEL_", "").toLowerCase();
  const place = (code, name) => (name ? `${name} (${code})` : code);

  // Copies a position's id (the hours import's 服务阵地编号 column takes it).
  // The clipboard API needs a secure context; elsewhere a selected field
  // and execCommand stand in.
  function copyButton(id) {
    const button = el("button", { type: "button", class: "secondary", "data-testid": "position-copy-id",
      "aria-label": `${t("copyId")} ${id}`, text: t("copyId"), on: { click: async () => {
        try {
          await navigator.clipboard.writeText(id);
        } catch (err) {
          const box = el("textarea", { readonly: "", "aria-hidden": "true" });
          box.value = id;
          document.body.append(box); box.select(); document.execCommand("copy"); box.remove();
        }
        button.textContent = t("copied");
        button.dataset.copied = "true";
        setTimeout(() => { button.textContent = t("copyId"); }, 2000);
      } } });
    return button;
  }

  function card(x, edit) {
    const kind = kindOf(x);
    const level = levelOf(x);
    const row = (label, value) => el("div", { class: "kv" }, el("span", { class: "muted", text: `${t(label)}: ` }),
      el("span", { text: value }));
    return el("li", { class: "card", "data-id": x.id, "data-kind": kind, "data-testid": "position" },
      el("strong", { "data-col": "name", text: x.name }),
      el("span", { class: "badge", "data-col": "kind",
        text: ` ${t(`kind_${kind}`)}${kind === "base" && level !== "unspecified" ? ` · ${t(`level_${level}`)}` : ""}` }),
      el("div", { class: "kv" }, el("span", { class: "muted", text: `${t("id")}: ` }),
        el("code", { class: "mono", "data-col": "id", "data-testid": "position-id", text: x.id }), " ", copyButton(x.id)),
      row("division", place(x.division_code, x.division_name)),
      x.address ? row("address", x.address) : "",
      x.opening_hours ? row("hours", x.opening_hours) : "",
      row("updated", zy.when(x.updated_at)),
      el("div", { class: "tools" }, el("button", { type: "button", class: "secondary", "data-testid": "position-edit",
        text: t("edit"), on: { click: () => edit(x) } })));
  }

  function positionForm(onSaved) {
    const error = el("p", { class: "error", "data-testid": "position-form-error" });
    const notice = el("p", { class: "notice", "data-testid": "position-notice" });
    const title = el("h3", { text: t("createTitle") });
    const field = (label, control) => el("label", { class: "field" }, el("span", { text: t(label) }), control);
    let editing = null;
    const kind = el("select", { name: "kind", required: "", "data-testid": "position-kind", "aria-label": t("kind"),
      on: { change: () => { levelField.hidden = kind.value !== "base"; } } },
    KINDS.map((k) => el("option", { value: k, text: t(`kind_${k}`) })));
    const level = el("select", { name: "base_level", "data-testid": "position-level", "aria-label": t("baseLevel") },
      LEVELS.map((k) => el("option", { value: k, text: t(`level_${k}`) })));
    const levelField = field("baseLevel", level);
    levelField.hidden = true;
    const cancel = el("button", { type: "button", class: "secondary", hidden: "", "data-testid": "position-cancel",
      text: t("cancelEdit"), on: { click: () => reset() } });

    function reset() {
      editing = null;
      form.reset();
      levelField.hidden = true;
      title.textContent = t("createTitle");
      cancel.hidden = true;
    }

    const form = el("form", { class: "card form", "data-testid": "position-form", on: { submit: async (e) => {
      e.preventDefault();
      zy.clearError(error); notice.textContent = "";
      const f = form.elements;
      const body = { name: f.name.value.trim(), kind: f.kind.value, division_code: f.division_code.value.trim(),
        address: f.address.value.trim(), opening_hours: f.opening_hours.value.trim() };
      if (body.kind === "base") body.base_level = f.base_level.value;
      try {
        if (editing) {
          await zy.post(`/positions/${enc(editing)}`, body, "PUT");
          notice.textContent = t("saved");
        } else {
          const got = await zy.post("/positions", body);
          notice.textContent = `${t("created")}: ${got.position.name}`;
        }
        reset();
        onSaved();
      } catch (err) {
        if (err.status !== 401) zy.showError(error, err);
      }
    } } },
    title, el("p", { class: "muted", text: t("help") }),
    el("div", { class: "grid row" },
      field("name", el("input", { name: "name", required: "", maxlength: "100", autocomplete: "off",
        "data-testid": "position-name", "aria-label": t("name") })),
      field("kind", kind), levelField,
      field("division", el("input", { name: "division_code", required: "", inputmode: "numeric", maxlength: "12",
        "data-testid": "position-division", "aria-label": t("division") })),
      field("address", el("input", { name: "address", maxlength: "200", "data-testid": "position-address",
        "aria-label": t("address") })),
      field("hours", el("input", { name: "opening_hours", maxlength: "100", placeholder: t("hoursPlaceholder"),
        "data-testid": "position-hours", "aria-label": t("hours") }))),
    el("div", { class: "tools" }, el("button", { type: "submit", "data-testid": "position-submit", text: t("submit") }),
      cancel),
    error, notice);

    form.edit = (x) => {
      editing = x.id;
      const f = form.elements;
      f.name.value = x.name; f.kind.value = kindOf(x); f.division_code.value = x.division_code;
      f.address.value = x.address || ""; f.opening_hours.value = x.opening_hours || "";
      levelField.hidden = kindOf(x) !== "base";
      if (kindOf(x) === "base") f.base_level.value = levelOf(x);
      title.textContent = t("editTitle");
      cancel.hidden = false;
      form.scrollIntoView({ block: "start" });
    };
    return form;
  }

  async function renderPositions(_rest, params) {
    const view = zy.view();
    const state = { kind: params?.get?.("kind") || "" };
    const list = el("ul", { class: "cards", "data-testid": "position-list" });
    const error = el("p", { class: "error", "data-testid": "position-error" });
    const total = el("p", { class: "muted", "data-testid": "position-total" });

    async function load() {
      zy.clearError(error);
      const query = new URLSearchParams();
      if (state.kind) query.set("kind", state.kind);
      try {
        const rows = await zy.allPages(`/positions?${query}`, "positions");
        total.textContent = `${t("total")} ${rows.length}`;
        list.replaceChildren(...(rows.length ? rows.map((x) => card(x, (p) => form.edit(p)))
          : [el("li", { class: "empty", text: t("empty") })]));
      } catch (err) {
        if (err.status === 403) { zy.renderDenied(); return; }
        if (err.status !== 401) zy.showError(error, err);
      }
    }

    const form = positionForm(load);
    const kind = el("select", { "data-testid": "position-filter", "aria-label": t("kind"), on: { change: () => {
      state.kind = kind.value; load();
    } } }, el("option", { value: "", text: t("kind_all") }),
    KINDS.map((k) => el("option", { value: k, text: t(`kind_${k}`) })));
    kind.value = state.kind;

    view.replaceChildren(el("section", { class: "card" }, el("h2", { text: t("title") }),
      el("div", { class: "tools" }, kind), error, total, list), form);
    await load();
    return undefined;
  }

  zy.pages["/positions"] = renderPositions;
})();
