// Recycling (爱为宝) console page, #/recycling[?division=<code>]: bins (list,
// placement, status changes), collection events (list, recording with kg by
// category), donation drives (list) and residents' pickup bookings (list
// with masked contacts; assign, collect with weights, cancel with a reason).
"use strict";

(() => {
  const { el, t } = window.zy;
  // Keys carry a prefix so that other pages' strings never collide with these.
  const prefixed = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`rc.${k}`, v]));
  const T = (k) => { const v = t(`rc.${k}`); return v === `rc.${k}` ? t(k) : v; };
  window.zy.text(...[{
    recycling: "爱为宝回收", bins: "回收箱", binCode: "编号", address: "地址", status: "状态",
    deployedOn: "投放日期", changedOn: "状态变更", lastEmptied: "最近清运", newBin: "投放回收箱",
    create: "保存", changeStatus: "变更", reason: "原因", collections: "回收活动",
    newCollection: "登记回收活动", organisation: "组织/队伍", collectedOn: "日期",
    binCodes: "清运的回收箱（逗号分隔）", textiles: "衣物（千克）", books: "书籍（千克）",
    other: "其他（千克）", total: "合计（千克）", note: "备注", drives: "捐赠活动",
    driveTitle: "活动名称", heldOn: "日期", items: "捐赠（衣/书/其他）", distributed: "已发放",
    households: "受益户数（已覆盖/计划）", bookings: "预约上门回收", contact: "联系人",
    phone: "电话", window: "预约时段", assign: "派单", collect: "登记回收", cancel: "取消预约",
    cancelReason: "取消原因", filter: "筛选", more: "更多", empty: "暂无记录", saved: "已保存",
    BIN_STATUS_DEPLOYED: "在用", BIN_STATUS_FULL: "已满", BIN_STATUS_MAINTENANCE: "维修中",
    BIN_STATUS_RETIRED: "已撤除", BOOKING_STATUS_REQUESTED: "待派单", BOOKING_STATUS_ASSIGNED: "已派单",
    BOOKING_STATUS_COLLECTED: "已回收", BOOKING_STATUS_CANCELLED: "已取消",
  }, {
    recycling: "Recycling", bins: "Bins", binCode: "Code", address: "Address", status: "Status",
    deployedOn: "Deployed", changedOn: "Status since", lastEmptied: "Last emptied", newBin: "Place a bin",
    create: "Save", changeStatus: "Change", reason: "Reason", collections: "Collections",
    newCollection: "Record a collection", organisation: "Organisation / team", collectedOn: "Date",
    binCodes: "Bins emptied (comma separated)", textiles: "Textiles (kg)", books: "Books (kg)",
    other: "Other (kg)", total: "Total (kg)", note: "Note", drives: "Donation drives",
    driveTitle: "Title", heldOn: "Date", items: "Donated (garments/books/other)", distributed: "Distributed",
    households: "Households (reached/planned)", bookings: "Pickup bookings", contact: "Contact",
    phone: "Phone", window: "Window", assign: "Assign", collect: "Collect", cancel: "Cancel",
    cancelReason: "Why cancel?", filter: "Filter", more: "More", empty: "Nothing yet", saved: "Saved",
    BIN_STATUS_DEPLOYED: "Deployed", BIN_STATUS_FULL: "Full", BIN_STATUS_MAINTENANCE: "Maintenance",
    BIN_STATUS_RETIRED: "Retired", BOOKING_STATUS_REQUESTED: "Requested", BOOKING_STATUS_ASSIGNED: "Assigned",
    BOOKING_STATUS_COLLECTED: "Collected", BOOKING_STATUS_CANCELLED: "Cancelled",
  }].map(prefixed));

  const ROUTE = "#/recycling";
  const BIN_STATUSES = ["BIN_STATUS_DEPLOYED", "BIN_STATUS_FULL", "BIN_STATUS_MAINTENANCE", "BIN_STATUS_RETIRED"];
  const get = async (path) => (await window.zy.api(path)).json();
  const post = async (path, body) => (await window.zy.api(path, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}),
  })).json();
  const say = (node, err) => {
    const e = err?.body?.error;
    node.dataset.field = e?.field || "";
    node.dataset.rule = e?.rule || "";
    node.textContent = e ? `${e.field ? `${e.field}: ` : ""}${window.zy.lang() === "zh" ? e.message_zh : e.message_en}`
      : `${T("failed")}: ${err?.message || err}`;
  };
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const head = (keys) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", { text: T(k) }))));
  const input = (name, attrs = {}) => el("input", { name, placeholder: T(attrs.label || name), "aria-label": T(attrs.label || name), ...attrs.extra });
  const kg = (name, label) => input(name, { label, extra: { type: "number", min: "0", step: "0.1", style: "width:90px" } });
  const n = (v) => window.zy.num(v || 0);
  const w = (x) => x || {};
  const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v)).toString();
  let current = new URLSearchParams();

  // Runs an action; on success re-renders the page, on failure says why in `box`.
  const act = (box, fn) => async (e) => {
    e?.preventDefault?.();
    box.textContent = "";
    try { await fn(); render(current); } catch (err) { if (err.status !== 401) say(box, err); }
  };
  const section = (id, title, ...children) => el("section", { class: "card", "data-testid": id, style: "margin-top:12px" },
    el("h3", { text: T(title) }), ...children);
  const table = (id, columns, rows) => (rows.length
    ? el("table", { "data-testid": id }, head(columns), el("tbody", {}, rows))
    : el("p", { "data-testid": `${id}-empty`, text: T("empty") }));

  function binsPart(bins, division, next) {
    const box = errorBox("bin-error");
    const rows = bins.map((b) => {
      const status = el("select", { name: "status", "aria-label": T("status") },
        BIN_STATUSES.map((s) => el("option", { value: s, text: T(s) })));
      status.value = b.status;
      const reason = input("reason", { extra: { style: "width:110px" } });
      const final = b.status === "BIN_STATUS_RETIRED";
      return el("tr", { "data-id": b.id, "data-code": b.code, "data-status": b.status },
        el("td", { text: b.code }), el("td", { text: b.division_code }), el("td", { text: b.place?.address || "" }),
        el("td", { "data-col": "status", text: T(b.status) }), el("td", { text: b.deployed_on || "" }),
        el("td", { text: b.status_changed_on || "" }), el("td", { text: b.last_emptied_on || "" }),
        el("td", {}, final ? [] : [status, reason, el("button", { type: "button", "data-action": "status", text: T("changeStatus"),
          on: { click: act(box, () => post(`/recycling/bins/${b.id}/status`, { status: status.value, reason: reason.value })) } })]));
    });
    const f = { code: input("code", { label: "binCode" }), division: input("division_code", { label: "division" }),
      address: input("address"), deployed: input("deployed_on", { label: "deployedOn", extra: { type: "date" } }) };
    const form = el("form", { class: "tools", "data-testid": "bin-form", on: { submit: act(box, async () => {
      const got = await post("/recycling/bins", { code: f.code.value.trim(), division_code: f.division.value.trim(),
        place: { address: f.address.value.trim() }, deployed_on: f.deployed.value });
      // Show the new bin's township, where it is certain to be listed.
      current = new URLSearchParams({ division: got.bin.division_code });
      window.history.replaceState(null, "", `${ROUTE}?${current}`);
    }) } }, el("strong", { text: T("newBin") }), Object.values(f), el("button", { type: "submit", text: T("create") }));
    const filter = input("division", { label: "division", extra: { value: division, "data-testid": "division-filter", style: "width:110px" } });
    const tools = el("form", { class: "tools", on: { submit: (e) => {
      e.preventDefault(); window.zy.go(filter.value.trim() ? `${ROUTE}?division=${filter.value.trim()}` : ROUTE);
    } } }, filter, el("button", { type: "submit", text: T("filter") }));
    const list = table("bins", ["binCode", "division", "address", "status", "deployedOn", "changedOn", "lastEmptied", "actions"], rows);
    const more = next ? el("button", { type: "button", "data-testid": "bins-more", text: T("more"), on: { click: async () => {
      more.disabled = true;
      try {
        const page = await get(`/recycling/bins?${qs({ division_code: division, page_size: 200, page_token: next })}`);
        const part = binsPart(page.bins || [], division, page.page?.next_page_token);
        list.querySelector("tbody")?.append(...part.querySelectorAll("[data-testid=bins] tbody tr"));
        const again = part.querySelector("[data-testid=bins-more]");
        if (again) more.replaceWith(again); else more.remove();
      } catch (err) { if (err.status !== 401) say(box, err); more.disabled = false; }
    } } }) : "";
    return section("bins-section", "bins", tools, form, box, list, more);
  }

  function collectionsPart(collections) {
    const box = errorBox("collection-error");
    const f = { division: input("division_code", { label: "division" }), org: input("organisation_name", { label: "organisation" }),
      on: input("collected_on", { label: "collectedOn", extra: { type: "date" } }), codes: input("bin_codes", { label: "binCodes" }),
      textiles: kg("textiles_kg", "textiles"), books: kg("books_kg", "books"), other: kg("other_kg", "other"), note: input("note") };
    const form = el("form", { class: "tools", "data-testid": "collection-form", style: "flex-wrap:wrap", on: { submit: act(box, () => post("/recycling/collections", {
      division_code: f.division.value.trim(), organisation_name: f.org.value.trim(), collected_on: f.on.value,
      bin_codes: f.codes.value.split(/[,，\s]+/).filter(Boolean), note: f.note.value,
      weights: { textiles_kg: Number(f.textiles.value || 0), books_kg: Number(f.books.value || 0), other_kg: Number(f.other.value || 0) },
    })) } }, el("strong", { text: T("newCollection") }), Object.values(f), el("button", { type: "submit", text: T("create") }));
    const rows = collections.map((c) => el("tr", { "data-id": c.id },
      el("td", { text: c.collected_on }), el("td", { text: c.division_code }), el("td", { text: c.organisation_name || "" }),
      el("td", { text: (c.bin_codes || []).join(", ") }), el("td", { text: n(w(c.weights).textiles_kg) }),
      el("td", { text: n(w(c.weights).books_kg) }), el("td", { text: n(w(c.weights).other_kg) }), el("td", { text: n(c.total_kg) })));
    return section("collections-section", "collections", form, box,
      table("collections", ["collectedOn", "division", "organisation", "bins", "textiles", "books", "other", "total"], rows));
  }

  function drivesPart(drives) {
    const items = (i) => `${n(w(i).garments)} / ${n(w(i).books)} / ${n(w(i).other)}`;
    const rows = drives.map((d) => el("tr", { "data-id": d.id },
      el("td", { text: d.title }), el("td", { text: d.division_code }), el("td", { text: d.organisation_name || "" }),
      el("td", { text: d.held_on }), el("td", { text: items(d.items) }), el("td", { text: items(d.distributed) }),
      el("td", { text: `${n(d.households_reached)} / ${n(d.recipient_households)}` })));
    return section("drives-section", "drives",
      table("drives", ["driveTitle", "division", "organisation", "heldOn", "items", "distributed", "households"], rows));
  }

  function bookingsPart(bookings) {
    const box = errorBox("booking-error");
    const when = (v) => (v ? v.slice(0, 16).replace("T", " ") : "");
    const rows = bookings.map((b) => {
      const cells = [];
      if (b.status === "BOOKING_STATUS_REQUESTED" || b.status === "BOOKING_STATUS_ASSIGNED") {
        const org = input("organisation_name", { label: "organisation", extra: { style: "width:120px" } });
        cells.push(el("div", {}, org, el("button", { type: "button", "data-action": "assign", text: T("assign"),
          on: { click: act(box, () => post(`/recycling/bookings/${b.id}/assign`, { organisation_name: org.value.trim() })) } })));
      }
      if (b.status === "BOOKING_STATUS_ASSIGNED") {
        const k = { textiles: kg("textiles_kg", "textiles"), books: kg("books_kg", "books"), other: kg("other_kg", "other") };
        cells.push(el("div", {}, Object.values(k), el("button", { type: "button", "data-action": "collect", text: T("collect"),
          on: { click: act(box, () => post(`/recycling/bookings/${b.id}/collect`, { weights: {
            textiles_kg: Number(k.textiles.value || 0), books_kg: Number(k.books.value || 0), other_kg: Number(k.other.value || 0) } })) } })));
      }
      if (b.status === "BOOKING_STATUS_REQUESTED" || b.status === "BOOKING_STATUS_ASSIGNED") {
        const reason = input("reason", { label: "cancelReason", extra: { style: "width:120px" } });
        cells.push(el("div", {}, reason, el("button", { type: "button", "data-action": "cancel", text: T("cancel"),
          on: { click: act(box, () => post(`/recycling/bookings/${b.id}/cancel`, { reason: reason.value.trim() })) } })));
      }
      return el("tr", { "data-id": b.id, "data-status": b.status },
        el("td", { "data-col": "contact", text: b.contact_name }), el("td", { "data-col": "phone", text: b.contact_phone }),
        el("td", { text: b.address }), el("td", { text: `${when(b.window_start)} – ${when(b.window_end)}` }),
        el("td", { text: b.note || "" }), el("td", { text: T(b.status) }),
        el("td", { text: [b.organisation_name, b.cancel_reason].filter(Boolean).join(" · ") }), el("td", {}, cells));
    });
    return section("bookings-section", "bookings", box,
      table("bookings", ["contact", "phone", "address", "window", "note", "status", "organisation", "actions"], rows));
  }

  async function render(params) {
    current = params;
    const division = params.get("division") || "";
    const view = window.zy.view();
    if (!view.querySelector("[data-testid=recycling-title]")) view.replaceChildren(el("p", { text: T("loading") }));
    // Each list loads on its own: one failing leaves the others (and the forms) usable.
    const scope = { division_code: division };
    const got = await Promise.allSettled([
      get(`/recycling/bins?${qs({ ...scope, page_size: division ? 500 : 100 })}`),
      get(`/recycling/collections?${qs({ ...scope, page_size: 50 })}`),
      get(`/recycling/drives?${qs({ ...scope, page_size: 50 })}`),
      get(`/recycling/bookings?${qs({ ...scope, page_size: 100 })}`)]);
    const failures = got.filter((g) => g.status === "rejected").map((g) => g.reason);
    if (failures.some((err) => err.status === 401)) return undefined;
    if (failures.length === got.length && failures.every((err) => err.status === 403)) return window.zy.renderDenied();
    if (!location.hash.startsWith(ROUTE)) return undefined; // the user moved on meanwhile
    const [bins, collections, drives, bookings] = got.map((g) => (g.status === "fulfilled" ? g.value : {}));
    const parts = [binsPart(bins.bins || [], division, bins.page?.next_page_token),
      collectionsPart(collections.collections || []), drivesPart(drives.drives || []), bookingsPart(bookings.bookings || [])];
    got.forEach((g, i) => {
      if (g.status !== "rejected") return;
      const box = errorBox("load-error");
      say(box, g.reason);
      parts[i].querySelector("h3").after(box);
    });
    view.replaceChildren(el("h2", { "data-testid": "recycling-title", text: T("recycling") }), ...parts);
    return undefined;
  }

  window.zy.pages["/recycling"] = (rest, params) => render(params);
})();
