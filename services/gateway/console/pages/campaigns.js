// Special campaigns (#/campaigns, #/campaigns/<id>[?node=<code>]): the
// campaigns the user sees (published at or above its node, or below it)
// with a form to publish one (a province's or city's admins), and one
// campaign's figures at a node of its area: the totals, two charts by ISO
// week (households reached, hours) and a table by child unit that drills
// down, and the projects tagged to it in that area. The charts are the
// dashboard's (zy.barChart). Words: campaigns.text.js.
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError, allPages } = zy;
  const T = zy.scoped("cg");
  const enc = encodeURIComponent;
  // Code widths: province 2, city 4, county 6, township 9, village 12.
  const PARENT_WIDTH = { 4: 2, 6: 4, 9: 6, 12: 9 };
  const METRICS = ["households", "volunteers", "hours", "items", "kg", "visits"];
  const GROUPS = ["dibao", "flood_affected", "sick_disabled", "left_behind_children", "elderly_alone", "disabled_children", "veterans"];
  const label = (text, node) => el("label", { class: "field" }, el("span", { text }), node);
  const errorBox = (id) => el("p", { class: "error", "data-testid": id });
  const value = (row, m) => Number(row?.[m] || 0);
  const table = (id, heads, rows) => el("div", { class: "table-box" }, el("table", { "data-testid": id },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: T(h) })))), el("tbody", {}, rows)));

  function publishForm() {
    const box = errorBox("campaign-form-error");
    const title = el("input", { name: "title", "data-field": "title", maxlength: "100", "data-testid": "campaign-title" });
    const description = el("input", { name: "description", "data-field": "description", maxlength: "2000" });
    const starts = el("input", { name: "starts_on", "data-field": "starts_on", type: "date" });
    const ends = el("input", { name: "ends_on", "data-field": "ends_on", type: "date" });
    const boxes = GROUPS.map((g) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "target_groups", value: g, "data-field": "target_groups" }), el("span", { text: T(g) })));
    const form = el("form", { "data-testid": "campaign-form", class: "spaced" },
      el("div", { class: "row bottom" }, label(T("campaignTitle"), title), label(T("description"), description),
        label(T("startsOn"), starts), label(T("endsOn"), ends)),
      el("fieldset", { class: "row" }, el("legend", { text: T("groups") }), ...boxes),
      el("button", { type: "submit", text: T("save") }), box);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      box.textContent = "";
      const groups = boxes.map((b) => b.firstChild).filter((b) => b.checked).map((b) => b.value);
      try {
        const got = await post("/campaigns", { title: title.value.trim(), description: description.value.trim(),
          starts_on: starts.value, ends_on: ends.value, target_groups: groups });
        zy.go(`#/campaigns/${enc(got.campaign.id)}`);
      } catch (err) { if (err.status !== 401) showError(box, err); }
    });
    return [el("h3", { text: T("publish") }), form];
  }

  async function list(me) {
    const campaigns = await allPages("/campaigns", "campaigns");
    await zy.divisions.load(campaigns.map((c) => c.division_code));
    const rows = campaigns.map((c) => el("tr", { "data-id": c.id },
      el("td", { "data-col": "title" }, el("a", { href: `#/campaigns/${enc(c.id)}`, text: c.title })),
      zy.divisions.cell(c.division_code, { "data-col": "division_code" }),
      el("td", { "data-col": "window", text: `${c.starts_on} – ${c.ends_on}` }),
      el("td", { "data-col": "target_groups", text: (c.target_groups || []).map((g) => T(g)).join("、") })));
    const scope = me.scope_code || "";
    const parts = [el("h2", { text: T("title") }), el("p", { class: "muted", text: T("help") }),
      campaigns.length ? table("campaigns-table", ["campaignTitle", "publisher", "window", "groups"], rows)
        : el("p", { class: "empty", "data-testid": "campaigns-empty", text: T("none") })];
    // Only a province or a city publishes (the service refuses anyone else too).
    if (zy.inGroup(me, "admins") && scope.length > 0 && scope.length <= 4) parts.push(...publishForm());
    return el("section", { class: "card", "data-testid": "campaigns-list" }, ...parts);
  }

  function weekly(rows, metric) {
    const series = rows.map((r) => ({ label: r.key.slice(5), value: value(r, metric) }));
    return zy.barChart(series);
  }

  // The projects tagged to the campaign at `at` or below. The API has no
  // filter by campaign: the area's projects are read (at most 2,000) and
  // filtered here; a card says so when the area holds more.
  const SCAN = 4;
  async function taggedProjects(id, at) {
    const card = el("section", { class: "card", "data-testid": "campaign-projects" }, el("h3", { text: T("taggedProjects") }),
      el("p", { text: zy.t("loading") }));
    (async () => {
      let all;
      try { all = await allPages(`/projects?division_code=${enc(at)}`, "projects", SCAN); } catch (err) {
        const p = errorBox("campaign-projects-failed");
        if (err.status !== 401) showError(p, err);
        card.replaceChildren(el("h3", { text: T("taggedProjects") }), p);
        return;
      }
      const mine = all.filter((p) => p.campaign_id === id);
      await zy.divisions.load(mine.map((p) => p.division_code));
      const rows = mine.map((p) => el("tr", { "data-id": p.id },
        el("td", { "data-col": "title" }, el("a", { href: `#/projects/${enc(p.id)}`, text: p.title })),
        zy.divisions.cell(p.division_code, { "data-col": "division_code" }),
        el("td", { "data-col": "status", "data-status": p.status, text: zy.t(`pj.${p.status}`) })));
      const capped = all.length >= SCAN * 500
        ? el("p", { class: "muted", "data-testid": "campaign-projects-capped", text: T("projectsCapped").replace("{n}", zy.num(all.length)) }) : "";
      card.replaceChildren(el("h3", { text: T("taggedProjects") }), rows.length
        ? table("campaign-projects-table", ["project", "unit", "projectStatus"], rows)
        : el("p", { class: "empty", "data-testid": "campaign-projects-empty", text: T("noTaggedProjects") }), capped);
      card.dataset.loaded = String(mine.length);
    })();
    return card;
  }

  async function summary(id, node) {
    const query = node ? `&division_code=${enc(node)}` : "";
    const [byChild, byWeek] = await Promise.all([
      get(`/campaigns/${enc(id)}/summary?by=child${query}`),
      get(`/campaigns/${enc(id)}/summary?by=week${query}`)]);
    const c = byChild.campaign;
    const at = byChild.division_code;
    await zy.divisions.load([at, c.division_code, ...byChild.rows.map((r) => r.key)]);
    const totals = el("section", { class: "figures" }, METRICS.map((m) => el("div", { class: "card figure" },
      el("div", { class: "v", "data-testid": `campaign-${m}`, "data-value": value(byChild.total, m), text: zy.num(value(byChild.total, m)) }),
      el("div", { class: "k", text: T(m) }))));
    const charts = el("section", { class: "charts" },
      el("div", { class: "card", "data-testid": "campaign-chart-week" }, el("h3", { text: T("byWeek") }), weekly(byWeek.rows, "households")),
      el("div", { class: "card", "data-testid": "campaign-chart-week-hours" }, el("h3", { text: T("byWeekHours") }), weekly(byWeek.rows, "hours")));
    const drill = (key) => key !== at;
    const rows = byChild.rows.map((r) => el("tr", { "data-code": r.key, class: drill(r.key) ? "drill" : "",
      on: drill(r.key) ? { click: () => zy.go(`#/campaigns/${enc(id)}?node=${enc(r.key)}`) } : {} },
    el("td", { "data-col": "unit", text: r.key === at ? `${zy.divisions.label(r.key)}（${T("ownFacts")}）` : zy.divisions.label(r.key) }),
    ...METRICS.map((m) => el("td", { "data-col": m, text: zy.num(value(r, m)) }))));
    const parent = at.slice(0, PARENT_WIDTH[at.length] || 0);
    const up = at.length > c.division_code.length ? el("a", { href: `#/campaigns/${enc(id)}?node=${enc(parent)}`,
      "data-testid": "campaign-up", text: `‹ ${T("up")}` }) : "";
    return el("section", { "data-testid": "campaign-summary" },
      el("p", {}, el("a", { href: "#/campaigns", text: `‹ ${T("back")}` }), " ", up),
      el("h2", { "data-testid": "campaign-name", text: c.title }),
      el("p", { class: "muted", text: `${T("publisher")}: ${zy.divisions.label(c.division_code)} · ${T("window")}: ${c.starts_on} – ${c.ends_on} · ${T("groups")}: ${(c.target_groups || []).map((g) => T(g)).join("、")}` }),
      el("h3", { text: `${T("figures")} · ${T("at")}: ${zy.divisions.label(at)}` }), totals, charts,
      el("h3", { text: T("byChild") }),
      el("div", { class: "card" }, rows.length ? table("campaign-children", ["unit", ...METRICS], rows)
        : el("p", { class: "empty", "data-testid": "campaign-empty", text: T("noFigures") })),
      await taggedProjects(id, at));
  }

  zy.pages["/campaigns"] = async (rest, params) => {
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    try {
      const me = await get("/me");
      const id = decodeURIComponent(rest || "");
      view.replaceChildren(id ? await summary(id, params.get("node") || "") : await list(me));
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status === 401) return undefined;
      const p = errorBox("campaigns-failed");
      showError(p, err);
      view.replaceChildren(el("section", { class: "card" }, p));
    }
    return undefined;
  };
})();
