// The dashboard's federated part (issue 15), shown only when the answer has
// a `federated` section, i.e. on an upstream release: the card 联邦下级平台 /
// Federated releases (each downstream's subtree, its last delta, relative
// and in China time like every time in the console, and a stale badge), the
// federated figure under each own one, and the federated rows of the child
// table and the tonnes chart, marked. dashboard.js calls these while drawing.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t, num } = zy;

  const fig = (v) => (v === null || v === undefined ? "—" : num(v));

  // "3 分钟前" / "3 minutes ago" from the server's age (no browser clock).
  function ago(seconds) {
    const rtf = new Intl.RelativeTimeFormat(zy.locale(), { numeric: "auto" });
    if (seconds < 60) return rtf.format(-seconds, "second");
    if (seconds < 3600) return rtf.format(-Math.floor(seconds / 60), "minute");
    if (seconds < 86400) return rtf.format(-Math.floor(seconds / 3600), "hour");
    return rtf.format(-Math.floor(seconds / 86400), "day");
  }

  function link(l) {
    const last = l.last_delta_at
      ? el("time", { datetime: l.last_delta_at, title: l.last_delta_at, "data-testid": "federated-last" },
        `${ago(l.age_seconds)} · ${zy.when(l.last_delta_at, "seconds")}`)
      : el("span", { "data-testid": "federated-last", text: t("fedNever") });
    const state = l.stale
      ? el("span", { class: "badge stale", "data-testid": "federated-stale", text: t("fedStale") })
      : el("span", { class: "badge fresh", "data-testid": "federated-fresh", text: t("fedFresh") });
    return el("li", { "data-testid": "federated-link", "data-downstream": l.downstream, "data-stale": String(l.stale) },
      el("div", { class: "fed-head" },
        el("strong", { "data-testid": "federated-subtree", text: l.subtree_name || l.subtree }),
        el("span", { class: "mono muted", text: l.subtree }), state),
      el("div", { class: "hint" }, `${t("fedRelease")} ${l.downstream} · ${t("fedLastDelta")} `, last));
  }

  // The card beside the own headline.
  function card(fed) {
    const body = fed.links.length
      ? el("ul", { class: "fed-links" }, fed.links.map(link))
      : el("p", { class: "empty compact", "data-testid": "federated-none", text: t("fedNone") });
    return el("section", { class: "card fed-card", "data-testid": "federated" },
      el("h3", { class: "flush", text: t("fedTitle") }),
      el("p", { class: "hint", text: t("fedNote") }), body);
  }

  // Under an own figure: the same figure as the downstreams forwarded it.
  function figureNote(fed, name) {
    if (!fed || !fed.links.length) return "";
    const v = fed.headline[name];
    return el("div", { class: "fed-figure", "data-testid": `federated-${name}`, "data-value": v ?? "" },
      `${t("fedBadge")} ${fig(v)}`);
  }

  // The child table's rows: the own ones, each followed by the federated row
  // of the same unit (marked, with the releases it comes from).
  function tableRows(board) {
    const own = board.children.map((row) => ({ ...row, federated: null }));
    const fed = (board.federated?.children || []).map((row) => ({ ...row, federated: row.downstreams }));
    return [...own, ...fed].sort((a, b) => a.code.localeCompare(b.code) || (a.federated ? 1 : 0) - (b.federated ? 1 : 0));
  }

  function nameCell(row) {
    if (!row.federated) return row.name;
    return el("span", {}, `${row.name} `,
      el("span", { class: "badge fed", "data-testid": "federated-row-badge", title: row.federated.join(", "),
        text: `${t("fedBadge")} · ${row.federated.join(", ")}` }));
  }

  // The tonnes chart's bars: the federated units after the own ones, marked.
  function tonnes(board) {
    const fed = (board.federated?.children || [])
      .filter((row) => row.tonnes !== null && row.tonnes !== undefined)
      .map((row) => ({ label: `${row.name} · ${t("fedBadge")}`, value: row.tonnes, federated: true }));
    return [...board.charts.tonnes_by_child, ...fed];
  }

  zy.federated = { card, figureNote, tableRows, nameCell, tonnes };
})();
