// Bulk import (#/import?kind=volunteers|hours): a CSV or XLSX file sent as
// it is, the service's streamed report read line by line into a progress
// bar, a summary and the refused rows.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t, num, api, view } = zy;

  // Import templates: the header each kind of file needs.
  const IMPORTS = {
    volunteers: { path: "/imports/volunteers", title: "importVolunteers", help: "importHelp",
      header: "姓名,身份证号,手机号,区划代码,服务领域" },
    hours: { path: "/imports/hours", title: "importHours", help: "importHoursHelp",
      header: "志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因,服务阵地编号" },
  };

  // A refused row: its number as the spreadsheet shows it (the header is
  // row 1; the service numbers rows so), the field's label (its key kept in
  // data-field), the rule and the reason in the page's language.
  function refusedRow(item) {
    const label = zy.fieldLabel(item.field || "", el("form"));
    const shown = label === item.field && zy.lang() === "zh" && item.label_zh ? item.label_zh : label;
    return el("tr", { "data-row": item.row, "data-field": item.field || "", "data-rule": item.rule || "" },
      el("td", { text: item.row ?? "" }), el("td", { "data-col": "field", text: shown || "" }),
      el("td", { text: item.rule || "" }), el("td", { text: zy.lang() === "zh" ? item.message_zh : item.message_en }));
  }

  // "Imported 3 · already imported 2 · failed 1": rows an earlier upload of
  // the same file imported are not counted as imported again.
  function counts(imported, failed, duplicates, final = false) {
    const parts = [`${t("imported")} ${num(imported)}`];
    if (duplicates) parts.push(`${t("duplicateRows")} ${num(duplicates)}`);
    parts.push(`${t("failedRows")} ${num(failed)}`);
    if (final && !failed && imported) parts.push(t("allGood"));
    if (final && !failed && !imported && duplicates) parts.push(t("nothingNew"));
    return parts.join(" · ");
  }

  function renderImport(params) {
    const kind = IMPORTS[params?.get("kind")] ? params.get("kind") : "volunteers";
    const spec = IMPORTS[kind];
    const tabs = el("nav", { class: "tools", "data-testid": "import-kinds" }, Object.keys(IMPORTS).map((k) =>
      el("a", { href: `#/import?kind=${k}`, class: k === kind ? "active" : "", "data-kind": k, text: t(IMPORTS[k].title) })));
    const template = el("a", { href: URL.createObjectURL(new Blob([`\ufeff${spec.header}\r\n`], { type: "text/csv" })),
      download: `zhiyuan-${kind}-template.csv`, "data-testid": "import-template", text: t("template") });
    const file = el("input", { type: "file", accept: ".csv,text/csv,.xlsx", "data-testid": "import-file", "aria-label": t("chooseFile") });
    const progress = el("progress", { max: "1", value: "0", "data-testid": "import-progress" });
    const summary = el("p", { "data-testid": "import-summary" });
    const body = el("tbody");
    const report = el("table", { "data-testid": "import-report" },
      el("thead", {}, el("tr", {}, [t("row"), t("field"), t("rule"), t("message")].map((h) => el("th", { text: h })))), body);
    const start = el("button", { type: "button", "data-testid": "import-start", text: t("start"), on: { click: async () => {
      if (!file.files.length) return;
      start.disabled = true; body.replaceChildren(); summary.textContent = "";
      // The last upload's figures go: data-imported is set again when this one is done.
      ["imported", "failed", "duplicates"].forEach((k) => delete summary.dataset[k]);
      let done = 0, ok = 0, bad = 0, again = 0;
      try {
        const response = await api(spec.path, { method: "POST", headers: { "content-type": "text/csv" }, body: await file.files[0].arrayBuffer() });
        const reader = response.body.getReader(), decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done: end } = await reader.read();
          buffer += decoder.decode(value || new Uint8Array(), { stream: !end });
          const lines = buffer.split("\n"); buffer = lines.pop();
          for (const line of lines.filter(Boolean)) {
            const item = JSON.parse(line);
            if (item.total !== undefined) progress.max = Math.max(item.total, 1);
            else if (item.progress !== undefined) progress.value = item.progress;
            else if (item.row !== undefined) {
              done += 1; progress.value = done;
              // A row an earlier upload imported is answered again (created
              // false), not imported twice: it is counted apart.
              if (item.ok && item.created === false) again += 1;
              else if (item.ok) ok += 1;
              else {
                bad += 1;
                body.append(refusedRow(item));
              }
              summary.textContent = counts(ok, bad, again);
            } else if (item.done && item.error) {
              // The import stopped: rows already imported are kept.
              summary.textContent = `${t("failed")}: ${zy.lang() === "zh" ? item.error.message_zh : item.error.message_en}`;
            } else if (item.done) {
              progress.value = progress.max;
              summary.textContent = counts(item.imported, item.failed, item.duplicates || 0, true);
              summary.dataset.imported = item.imported; summary.dataset.failed = item.failed;
              summary.dataset.duplicates = item.duplicates || 0;
            }
          }
          if (end) break;
        }
      } catch (err) {
        if (err.status !== 401) summary.textContent = `${t("failed")}: ${err.body?.error?.[zy.lang() === "zh" ? "message_zh" : "message_en"] || err.message}`;
      } finally { start.disabled = false; }
    } } });
    view().replaceChildren(el("section", { class: "card", "data-kind": kind }, tabs, el("h2", { text: t(spec.title) }),
      el("p", { "data-testid": "import-help", text: t(spec.help) }, " ", template),
      el("div", { class: "tools" }, file, start), progress, summary, report));
  }

  zy.pages["/import"] = (rest, params) => renderImport(params);
})();
