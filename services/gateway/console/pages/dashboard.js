// The dashboard (#/dashboard, #/dashboard/<code>): a division's headline
// figures, four charts, the units below it with drill-down, and the CSV /
// XLSX export. A national account (scope CN) sees the nation by province
// (breadcrumb 全国 › province › ...). A service that cannot answer is named in a banner.
// On an upstream release the federated part (dashboard-federated.js) is drawn too.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t, num, api, go, view, renderDenied } = zy;

  const FIGURES = ["volunteers_registered", "volunteers_verified", "organisations", "projects",
    "hours_year", "hours_total", "tonnes", "bins_deployed", "stars", "awards"];

  // Bars of units a federated release reported (dashboard-federated.js).
  const FEDERATED_FILL = "#3b6ea8";
  // A figure a service could not give (null while it is unavailable) shows as a dash.
  const fig = (v) => (v === null || v === undefined ? "—" : num(v));

  function barChart(series, { horizontal = false, labelOf = (d) => d.label } = {}) {
    const ns = "http://www.w3.org/2000/svg";
    const width = 420, height = horizontal ? Math.max(60, series.length * 20 + 10) : 180;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", "100%");
    if (!series.some((d) => d.value > 0)) {
      return el("p", { class: "empty", "data-empty": "1", text: t("noData") });
    }
    const max = Math.max(1e-9, ...series.map((d) => d.value));
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(ns, tag);
      Object.entries(attrs).forEach(([k, v]) => n.setAttribute(k, v));
      if (text !== undefined) n.textContent = text;
      svg.append(n);
    };
    series.forEach((d, i) => {
      const title = `${labelOf(d)}: ${num(d.value)}`;
      if (horizontal) {
        const w = (d.value / max) * (width - 170);
        add("text", { x: 0, y: i * 20 + 18 }, labelOf(d));
        add("rect", { x: 110, y: i * 20 + 6, width: Math.max(w, 0.5), height: 14, fill: d.federated ? FEDERATED_FILL : "#d9534f", "data-value": d.value, ...(d.federated ? { "data-federated": "1" } : {}) });
        add("text", { x: 114 + w, y: i * 20 + 18 }, num(d.value));
      } else {
        const slot = width / series.length, h = (d.value / max) * (height - 40);
        add("rect", { x: i * slot + 3, y: height - 22 - h, width: slot - 6, height: Math.max(h, 0.5), fill: "#d9534f", "data-value": d.value });
        add("text", { x: i * slot + slot / 2, y: height - 8, "text-anchor": "middle" }, labelOf(d));
      }
      svg.lastChild.previousSibling?.setAttribute?.("aria-label", title);
    });
    return svg;
  }

  // The campaigns page draws its weekly charts with the same bars.
  zy.barChart = barChart;

  async function download(code, year, format) {
    const r = await api(`/dashboard/export?division_code=${code}&year=${year}&format=${format}`);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: `zhiyuan-${code}-${year}.${format}` });
    document.body.append(a); a.click(); a.remove(); URL.revokeObjectURL(url);
  }

  async function renderDashboard(code) {
    view().replaceChildren(el("p", { text: t("loading") }));
    const asked = location.hash;
    let board;
    try {
      board = await (await api(`/dashboard?division_code=${code || ""}`)).json();
      if (location.hash !== asked) return undefined; // the user went elsewhere meanwhile
    } catch (err) {
      if (location.hash !== asked) return undefined;
      if (err.status === 403) return renderDenied();
      if (err.status === 401) return undefined;
      view().replaceChildren(el("p", { class: "error", text: `${t("failed")}: ${err.body?.error?.[zy.lang() === "zh" ? "message_zh" : "message_en"] || err.message}` }));
      return undefined;
    }
    const crumbs = el("nav", { class: "crumbs", "data-testid": "breadcrumb" });
    board.breadcrumb.forEach((c, i) => {
      if (i) crumbs.append(el("span", { class: "sep", text: "›" }));
      crumbs.append(el("a", { href: `#/dashboard/${c.code}`, "data-code": c.code, text: c.name || c.code }));
    });
    const fed = board.federated;
    const figures = el("section", { class: "figures" }, FIGURES.map((f) =>
      el("div", { class: "card figure" },
        el("div", { class: "v", "data-testid": `figure-${f}`, "data-value": board.headline[f] ?? "", text: fig(board.headline[f]) }),
        el("div", { class: "k", text: t(f) }), zy.federated.figureNote(fed, f))));
    // On an upstream release the card of its downstreams stands beside the figures.
    const headline = fed ? el("div", { class: "headline-row" }, figures, zy.federated.card(fed)) : figures;
    // A service that could not answer: a banner names it, its charts say so,
    // and everything the other services gave is drawn as usual.
    const missing = board.unavailable || [];
    const chart = (service, series, options) => (missing.includes(service)
      ? el("p", { class: "empty", "data-unavailable": service, text: t("unavailableChart") })
      : barChart(series, options));
    const banner = board.notice ? el("p", { class: "banner", role: "alert", "data-testid": "unavailable",
      "data-services": missing.join(","),
      text: `部分数据暂不可用 / Some data is unavailable: ${board.notice.labels.join("、")}` }) : "";
    const charts = el("section", { class: "charts" },
      el("div", { class: "card", "data-testid": "chart-hours-by-month" }, el("h3", { text: t("hours_by_month") }),
        chart("hours", board.charts.hours_by_month, { labelOf: (d) => d.label.slice(5) })),
      el("div", { class: "card", "data-testid": "chart-hours-by-field" }, el("h3", { text: t("hours_by_field") }),
        chart("hours", board.charts.hours_by_field, { horizontal: true, labelOf: (d) => (zy.lang() === "zh" ? d.label_zh : d.label_en || d.label) })),
      el("div", { class: "card", "data-testid": "chart-tonnes-by-child" }, el("h3", { text: t("tonnes_by_child") }),
        chart("recycling", zy.federated.tonnes(board), { horizontal: true })),
      el("div", { class: "card", "data-testid": "chart-stars" }, el("h3", { text: t("stars_chart") }),
        chart("commendation", board.charts.stars, { labelOf: (d) => `${d.label}★` })));
    const drillable = board.node.level !== "township";
    const columns = ["code", "name", ...FIGURES];
    const table = el("table", { "data-testid": "children" },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: t(c) })))),
      el("tbody", {}, zy.federated.tableRows(board).map((row) => el("tr", {
        class: `${drillable ? "drill" : ""}${row.federated ? " federated" : ""}`, "data-code": row.code,
        ...(row.federated ? { "data-federated": row.federated.join(",") } : {}),
        on: drillable ? { click: () => go(`#/dashboard/${row.code}`) } : {},
      }, columns.map((c) => el("td", { "data-col": c },
        c === "name" ? zy.federated.nameCell(row) : c === "code" ? row.code : fig(row[c])))))));
    // The nation's view (breadcrumb from CN) has no campaigns page to open.
    const national = board.breadcrumb[0]?.code === "CN";
    const tools = el("div", { class: "tools" },
      national ? "" : el("a", { href: "#/campaigns", class: "button", "data-testid": "campaigns-link", text: t("campaignsLink") }),
      el("button", { type: "button", "data-testid": "export-csv", text: `${t("export")} CSV`, on: { click: () => download(board.node.code, board.year, "csv") } }),
      el("button", { type: "button", "data-testid": "export-xlsx", text: `${t("export")} XLSX`, on: { click: () => download(board.node.code, board.year, "xlsx") } }));
    view().replaceChildren(crumbs, banner,
      el("h2", { "data-testid": "node-name", text: `${board.node.name || board.node.code} · ${t("year")} ${board.year}` }),
      headline, charts, el("h3", { text: t("children") }), tools, el("div", { class: "card" }, board.children.length || fed?.children.length ? table
        // A township with no villages on the platform, say, has no units below.
        : el("p", { class: "empty", "data-testid": "children-empty", text: t("noChildren") })));
  }

  // Any route the console does not know shows the user's own dashboard.
  zy.pages["/dashboard"] = (rest) => renderDashboard(/^\d+$/.test(rest || "") ? rest : "");
})();
