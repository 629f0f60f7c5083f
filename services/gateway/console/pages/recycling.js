// Recycling (爱为宝) console page, #/recycling[?division=<code>]: bins (list,
// placement, status changes along the service's lifecycle — retired is final —
// and each bin's history), collection events (list, recording with kg by
// category), donation drives (list, recording, distributions to households)
// and pickup bookings (list with masked contacts and windows in China time,
// filtered by status; assign, collect with weights, cancel with a reason; and
// a form for the office to book for a resident who calls in, sent with one
// idempotency key per filled form). A drive and a collected pickup may be
// tagged to a special campaign (zy.campaigns: those covering the division
// whose window holds the day). Forms are checked by the service, whose
// refusal is shown as "field: message".
//
// The hash keeps each paged list's place: bookings_status, bookings_page
// (the service's page token), bookings_size, and likewise collections_page /
// collections_size and drives_page / drives_size; "first" drops the token.
"use strict";

(() => {
  const { el } = window.zy;
  const T = window.zy.scoped("rc");

  const ROUTE = "#/recycling";
  // The service's bin lifecycle (services/recycling/domain.py): only these
  // moves are offered; retired is final and offers none.
  const BIN_MOVES = {
    BIN_STATUS_DEPLOYED: ["BIN_STATUS_FULL", "BIN_STATUS_MAINTENANCE", "BIN_STATUS_RETIRED"],
    BIN_STATUS_FULL: ["BIN_STATUS_DEPLOYED", "BIN_STATUS_MAINTENANCE", "BIN_STATUS_RETIRED"],
    BIN_STATUS_MAINTENANCE: ["BIN_STATUS_DEPLOYED", "BIN_STATUS_RETIRED"],
    BIN_STATUS_RETIRED: [],
  };
  const BOOKING_STATUSES = ["BOOKING_STATUS_REQUESTED", "BOOKING_STATUS_ASSIGNED",
    "BOOKING_STATUS_COLLECTED", "BOOKING_STATUS_CANCELLED"];
  // Rows per page of the paged lists unless the hash says (<list>_size, at most 500).
  const SIZES = { bookings: 50, collections: 50, drives: 50 };
  const { get, post } = window.zy;
  const say = window.zy.showError; // "field: message", field and rule kept as data
  const clear = (node) => { node.textContent = ""; delete node.dataset.field; delete node.dataset.rule; };
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const head = (keys) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", { text: T(k) }))));
  const input = (name, attrs = {}) => el("input", { name, placeholder: T(attrs.label || name), "aria-label": T(attrs.label || name), ...attrs.extra });
  // Numbers go to the service as typed (a blank is 0): its refusal names the
  // field, where the browser's own check would only show a bubble.
  const kg = (name, label) => input(name, { label, extra: { type: "number", step: "0.1", class: "w-90" } });
  const count = (name, label) => input(name, { label, extra: { type: "number", step: "1", class: "w-90" } });
  const small = (node) => { node.classList.add("w-80"); return node; };
  const cell = (...children) => el("div", { class: "chips" }, ...children);
  const numberOf = (node) => Number(node.value || 0);
  const n = (v) => window.zy.num(v || 0);
  const w = (x) => x || {};
  const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v)).toString();
  // A time (RFC 3339, UTC from the service) as China time in the user's language.
  const { when } = window.zy;
  // A "datetime-local" value read as China time, whatever the browser's zone.
  const cst = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : "");
  // One idempotency key per filled booking form: a double submit books once.
  const newKey = () => (window.crypto?.randomUUID ? window.crypto.randomUUID()
    : Array.from(window.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""));
  const sizeOf = (params, list) => {
    const v = Number(params.get(`${list}_size`));
    return Number.isInteger(v) && v > 0 ? Math.min(v, 500) : SIZES[list];
  };
  const hashOf = (params) => (params.toString() ? `${ROUTE}?${params}` : ROUTE);
  let current = new URLSearchParams();
  let renders = 0; // the latest render wins: an older one still loading draws nothing
  // The booking the form just made, shown at the top of the list until the
  // user pages or filters, should the list's page not hold it; kept current
  // from the answers to actions on it.
  let justBooked = null;
  let campaigns = []; // the campaigns the user sees, read at each draw
  let notice = null; // what the last action saved, said once the page is drawn again
  let saves = 0; // counts them: the notice's data-seq tells one save from the next
  const opened = new Set(); // bins whose history is shown

  // Runs an action; on success re-renders the page (saying what was saved,
  // `fn`'s { kind, id }), on failure says why in `box` and leaves the form.
  const act = (box, fn) => async (e) => {
    e?.preventDefault?.();
    clear(box);
    let saved;
    try { saved = await fn(); } catch (err) { if (err.status !== 401) say(box, err); return; }
    if (saved === false) return;
    notice = saved || {};
    render(current);
  };
  // Back to a list's first page, quietly: the redraw after a save shows it.
  const firstPage = (list) => {
    if (!current.has(`${list}_page`)) return;
    current = new URLSearchParams(current);
    current.delete(`${list}_page`);
    window.history.replaceState(null, "", hashOf(current));
  };
  const section = (id, title, ...children) => el("section", { class: "card spaced", "data-testid": id },
    el("h3", { text: T(title) }), ...children);
  // A list scrolls inside its own box (both ways, header kept in view), so
  // a township's 500 bins do not make the page thousands of pixels long and
  // the actions column is a sideways scroll away, not past the page's end.
  const table = (id, columns, rows) => (rows.length
    ? el("div", { class: "table-box", "data-testid": `${id}-box` },
      el("table", { "data-testid": id }, head(columns), el("tbody", {}, rows)))
    : el("p", { "data-testid": `${id}-empty`, text: T("empty") }));
  // A division field: a picker over the tree under the user's scope that
  // fills the code input (which can still be typed in).
  const divisionField = (node) => window.zy.divisions.picker(node);
  const divisionCell = (code) => window.zy.divisions.cell(code);
  // The page's four parts, one tap away from the bar that stays at the top.
  const PARTS = [["bins-section", "bins"], ["collections-section", "collections"], ["drives-section", "drives"],
    ["bookings-section", "bookings"]];
  const partsNav = () => el("nav", { class: "tools section-nav", "data-testid": "recycling-parts", "aria-label": T("recycling") },
    PARTS.map(([id, title]) => el("button", { type: "button", "data-part": id, text: T(title), on: { click: () => {
      document.querySelector(`[data-testid=${id}]`)?.scrollIntoView({ block: "start" });
    } } })));

  // Moves one list to another page or filter: the hash changes, the page is drawn again.
  const goWith = (changes) => {
    const params = new URLSearchParams(current);
    Object.entries(changes).forEach(([k, v]) => (v ? params.set(k, v) : params.delete(k)));
    justBooked = null;
    window.zy.go(hashOf(params));
  };
  // Total, first page and next page of a list, by the service's page tokens.
  function pager(list, page) {
    const token = current.get(`${list}_page`) || "";
    const next = page?.next_page_token || "";
    const total = Number(page?.total_size || 0);
    const first = el("button", { type: "button", "data-testid": `${list}-first`, text: T("first"),
      on: { click: () => goWith({ [`${list}_page`]: "" }) } });
    const more = el("button", { type: "button", "data-testid": `${list}-next`, "data-token": next, text: T("next"),
      on: { click: () => { if (next) goWith({ [`${list}_page`]: next }); } } });
    first.disabled = !token;
    more.disabled = !next;
    const said = el("span", { "data-testid": `${list}-total`, "data-total": String(total),
      text: page ? T("totalOf").replace("{n}", n(total)) : "" });
    return el("div", { class: "tools", "data-testid": `${list}-pager`, "data-page": token, "aria-label": T(list) },
      said, first, more);
  }

  // A bin's status history under its row, oldest change first.
  async function showHistory(row, b, box) {
    let got;
    try { got = await get(`/recycling/bins/${b.id}`); } catch (err) { if (err.status !== 401) say(box, err); return; }
    const changes = (got.history || []).map((c) => el("tr", { "data-to": c.to_status, "data-from": c.from_status || "" },
      el("td", { text: c.changed_on }),
      el("td", { text: c.from_status && c.from_status !== "BIN_STATUS_UNSPECIFIED" ? T(c.from_status) : "" }),
      el("td", { text: T(c.to_status) }), el("td", { text: c.changed_by || "" }), el("td", { text: c.reason || "" })));
    const list = el("table", { "data-testid": "bin-history", "data-id": b.id },
      head(["day", "fromStatus", "toStatus", "changedBy", "reason"]), el("tbody", {}, changes));
    if (!row.isConnected || !opened.has(b.id)) return;
    row.parentNode.querySelector(`tr[data-history-of="${b.id}"]`)?.remove();
    row.after(el("tr", { class: "history", "data-history-of": b.id }, el("td", { colspan: "8" }, list)));
  }

  function binRow(b, box) {
    const moves = BIN_MOVES[b.status] || [];
    const row = el("tr", { "data-id": b.id, "data-code": b.code, "data-status": b.status });
    const history = el("button", { type: "button", "data-action": "history", "aria-expanded": String(opened.has(b.id)),
      text: T(opened.has(b.id) ? "hideHistory" : "history"), on: { click: () => {
        if (opened.has(b.id)) {
          opened.delete(b.id);
          row.parentNode?.querySelector(`tr[data-history-of="${b.id}"]`)?.remove();
        } else {
          opened.add(b.id);
          showHistory(row, b, box);
        }
        history.textContent = T(opened.has(b.id) ? "hideHistory" : "history");
        history.setAttribute("aria-expanded", String(opened.has(b.id)));
      } } });
    let actions;
    if (!moves.length) {
      actions = [el("span", { "data-testid": "bin-final", text: T("final") }), history];
    } else {
      const status = el("select", { name: "status", "aria-label": T("status") },
        moves.map((s) => el("option", { value: s, text: T(s) })));
      const reason = input("reason", { extra: { class: "w-110" } });
      actions = [status, reason, el("button", { type: "button", "data-action": "status", text: T("changeStatus"),
        on: { click: act(box, async () => {
          if (status.value === "BIN_STATUS_RETIRED" && !window.confirm(T("confirmRetire"))) return false;
          const got = await post(`/recycling/bins/${b.id}/status`, { status: status.value, reason: reason.value.trim() });
          return { kind: "bin", id: got.bin?.id || b.id };
        }) } }), history];
    }
    row.append(el("td", { text: b.code }), divisionCell(b.division_code), el("td", { text: b.place?.address || "" }),
      el("td", { "data-col": "status", text: T(b.status) }), el("td", { text: b.deployed_on || "" }),
      el("td", { "data-col": "changed", text: b.status_changed_on || "" }), el("td", { text: b.last_emptied_on || "" }),
      el("td", {}, actions));
    return row;
  }

  function binsPart(bins, division, next) {
    const box = errorBox("bin-error");
    const rows = bins.map((b) => binRow(b, box));
    const f = { code: input("code", { label: "binCode" }), division: input("division_code", { label: "division", extra: { value: division } }),
      address: input("address"), deployed: input("deployed_on", { label: "deployedOn", extra: { type: "date" } }) };
    const form = el("form", { class: "tools wrap", "data-testid": "bin-form", novalidate: "", on: { submit: act(box, async () => {
      const got = await post("/recycling/bins", { code: f.code.value.trim(), division_code: f.division.value.trim(),
        place: { address: f.address.value.trim() }, deployed_on: f.deployed.value });
      // Show the new bin's township, where it is certain to be listed.
      current = new URLSearchParams({ division: got.bin.division_code });
      window.history.replaceState(null, "", `${ROUTE}?${current}`);
      return { kind: "bin", id: got.bin.id };
    }) } }, el("strong", { text: T("newBin") }), f.code, divisionField(f.division), f.address, f.deployed,
    el("button", { type: "submit", text: T("create") }));
    const filter = input("division", { label: "division", extra: { value: division, "data-testid": "division-filter", class: "w-110" } });
    const tools = el("form", { class: "tools wrap", on: { submit: (e) => {
      e.preventDefault(); window.zy.go(filter.value.trim() ? `${ROUTE}?division=${filter.value.trim()}` : ROUTE);
    } } }, divisionField(filter), el("button", { type: "submit", text: T("filter") }));
    const list = table("bins", ["binCode", "division", "address", "status", "deployedOn", "changedOn", "lastEmptied", "actions"], rows);
    rows.forEach((row, i) => { if (opened.has(bins[i].id)) showHistory(row, bins[i], box); });
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

  function collectionsPart(collections, division, page) {
    const box = errorBox("collection-error");
    const f = { division: input("division_code", { label: "division", extra: { value: division } }),
      org: input("organisation_name", { label: "organisation" }),
      on: input("collected_on", { label: "collectedOn", extra: { type: "date" } }), codes: input("bin_codes", { label: "binCodes" }),
      textiles: kg("textiles_kg", "textiles"), books: kg("books_kg", "books"), other: kg("other_kg", "other"), note: input("note") };
    const form = el("form", { class: "tools wrap", "data-testid": "collection-form", novalidate: "", on: { submit: act(box, async () => {
      const got = await post("/recycling/collections", {
        division_code: f.division.value.trim(), organisation_name: f.org.value.trim(), collected_on: f.on.value,
        bin_codes: f.codes.value.split(/[,，\s]+/).filter(Boolean), note: f.note.value.trim(),
        weights: { textiles_kg: numberOf(f.textiles), books_kg: numberOf(f.books), other_kg: numberOf(f.other) },
      });
      firstPage("collections"); // newest first: the new one is on the first page
      return { kind: "collection", id: got.collection.id };
    }) } }, el("strong", { text: T("newCollection") }), divisionField(f.division),
    Object.values(f).filter((node) => node !== f.division), el("button", { type: "submit", text: T("create") }));
    const rows = collections.map((c) => el("tr", { "data-id": c.id, "data-total": c.total_kg || 0 },
      el("td", { text: c.collected_on }), divisionCell(c.division_code), el("td", { text: c.organisation_name || "" }),
      el("td", { text: (c.bin_codes || []).join(", ") }), el("td", { "data-col": "textiles", text: n(w(c.weights).textiles_kg) }),
      el("td", { "data-col": "books", text: n(w(c.weights).books_kg) }), el("td", { "data-col": "other", text: n(w(c.weights).other_kg) }),
      el("td", { "data-col": "total", text: n(c.total_kg) })));
    return section("collections-section", "collections", form, box,
      table("collections", ["collectedOn", "division", "organisation", "bins", "textiles", "books", "other", "total"], rows),
      pager("collections", page));
  }

  function drivesPart(drives, division, page) {
    const box = errorBox("drive-error");
    const items = (i) => `${n(w(i).garments)} / ${n(w(i).books)} / ${n(w(i).other)}`;
    const f = { division: input("division_code", { label: "division", extra: { value: division } }),
      org: input("organisation_name", { label: "organisation" }), title: input("title", { label: "driveTitle" }),
      held: input("held_on", { label: "heldOn", extra: { type: "date" } }), garments: count("garments", "garments"),
      books: count("books", "booksItems"), other: count("other", "otherItems"),
      households: count("recipient_households", "recipientHouseholds") };
    // Campaigns open to the drive's division on its day (today when blank).
    const campaign = window.zy.campaigns.picker(campaigns,
      () => ({ division: f.division.value.trim(), day: f.held.value }), { "data-testid": "drive-campaign", class: "w-240" });
    [f.division, f.held].forEach((node) => ["input", "change"].forEach((e) => node.addEventListener(e, campaign.refresh)));
    const form = el("form", { class: "tools wrap", "data-testid": "drive-form", novalidate: "", on: { submit: act(box, async () => {
      const got = await post("/recycling/drives", {
        division_code: f.division.value.trim(), organisation_name: f.org.value.trim(), title: f.title.value.trim(),
        held_on: f.held.value, recipient_households: numberOf(f.households), campaign_id: campaign.value,
        items: { garments: numberOf(f.garments), books: numberOf(f.books), other: numberOf(f.other) },
      });
      firstPage("drives");
      return { kind: "drive", id: got.drive.id };
    }) } }, el("strong", { text: T("newDrive") }), divisionField(f.division),
    Object.values(f).filter((node) => node !== f.division), campaign, el("button", { type: "submit", text: T("create") }));
    const rows = drives.map((d) => {
      const g = { households: count("households", "distributeHouseholds"), garments: count("garments", "garments"),
        books: count("books", "booksItems"), other: count("other", "otherItems") };
      Object.values(g).forEach(small);
      const given = w(d.distributed), had = w(d.items);
      // A distribution reaches at least one household with at least one item.
      const left = (d.households_reached || 0) < (d.recipient_households || 0)
        && ["garments", "books", "other"].some((k) => (given[k] || 0) < (had[k] || 0));
      const give = !left ? "" : cell(Object.values(g), el("button", { type: "button", "data-action": "distribute", text: T("distribute"),
        on: { click: act(box, async () => {
          const got = await post(`/recycling/drives/${d.id}/distributions`, { households: numberOf(g.households),
            items: { garments: numberOf(g.garments), books: numberOf(g.books), other: numberOf(g.other) } });
          return { kind: "distribution", id: got.distribution.id };
        }) } }));
      return el("tr", { "data-id": d.id },
        el("td", { text: d.title }), divisionCell(d.division_code), el("td", { text: d.organisation_name || "" }),
        el("td", { text: d.held_on }), el("td", { "data-col": "items", text: items(d.items) }),
        el("td", { "data-col": "distributed", text: items(d.distributed) }),
        el("td", { "data-col": "households", text: `${n(d.households_reached)} / ${n(d.recipient_households)}` }), el("td", {}, give));
    });
    return section("drives-section", "drives", form, box,
      table("drives", ["driveTitle", "division", "organisation", "heldOn", "items", "distributed", "households", "actions"], rows),
      pager("drives", page));
  }

  // An answer about the booking shown pinned keeps that copy current.
  const keep = (b) => { if (b && justBooked?.id === b.id) justBooked = b; };

  function bookingRow(b, box, pinned = false) {
    const cells = [];
    if (b.status === "BOOKING_STATUS_REQUESTED") {
      const org = input("organisation_name", { label: "organisation", extra: { class: "w-120" } });
      cells.push(cell(small(org), el("button", { type: "button", "data-action": "assign", text: T("assign"),
        on: { click: act(box, async () => {
          keep((await post(`/recycling/bookings/${b.id}/assign`, { organisation_name: org.value.trim() })).booking);
          return { kind: "booking", id: b.id };
        }) } })));
    }
    if (b.status === "BOOKING_STATUS_ASSIGNED") {
      const k = { textiles: kg("textiles_kg", "textiles"), books: kg("books_kg", "books"), other: kg("other_kg", "other") };
      // Collected today: the campaigns open to the booking's division today.
      const campaign = window.zy.campaigns.picker(campaigns, () => ({ division: b.division_code || "" }),
        { "data-testid": "collect-campaign", class: "w-120" });
      cells.push(cell(Object.values(k).map(small), campaign, el("button", { type: "button", "data-action": "collect", text: T("collect"),
        on: { click: act(box, async () => {
          keep((await post(`/recycling/bookings/${b.id}/collect`, { campaign_id: campaign.value, weights: {
            textiles_kg: numberOf(k.textiles), books_kg: numberOf(k.books), other_kg: numberOf(k.other) } })).booking);
          return { kind: "booking", id: b.id };
        }) } })));
    }
    if (b.status === "BOOKING_STATUS_REQUESTED" || b.status === "BOOKING_STATUS_ASSIGNED") {
      const reason = input("reason", { label: "cancelReason", extra: { class: "w-120" } });
      cells.push(cell(small(reason), el("button", { type: "button", "data-action": "cancel", text: T("cancel"),
        on: { click: act(box, async () => {
          keep((await post(`/recycling/bookings/${b.id}/cancel`, { reason: reason.value.trim() })).booking);
          return { kind: "booking", id: b.id };
        }) } })));
    }
    const bw = w(b.weights);
    const total = (bw.textiles_kg || 0) + (bw.books_kg || 0) + (bw.other_kg || 0);
    const done = b.status === "BOOKING_STATUS_COLLECTED"
      ? `${b.collected_on || ""} · ${n(bw.textiles_kg)} / ${n(bw.books_kg)} / ${n(bw.other_kg)} (${n(total)})` : "";
    const row = el("tr", { "data-id": b.id, "data-status": b.status, "data-division": b.division_code || "" },
      el("td", { "data-col": "contact", text: b.contact_name }), el("td", { "data-col": "phone", text: b.contact_phone }),
      el("td", { "data-col": "address", text: b.address }),
      el("td", { "data-col": "window", text: `${when(b.window_start)} – ${when(b.window_end)}` }),
      el("td", { "data-col": "note", text: b.note || "" }), el("td", { "data-col": "status", text: T(b.status) }),
      el("td", { text: [b.organisation_name, b.cancel_reason].filter(Boolean).join(" · ") }),
      el("td", { "data-col": "collected", "data-total": total, text: done }), el("td", {}, cells));
    if (pinned) {
      row.dataset.pinned = "true";
      row.title = T("justBooked");
      row.classList.add("pinned");
    }
    return row;
  }

  // The office books for a resident who calls in. The service takes office
  // roles as bookers (services/recycling/domain.py BOOKERS); the form's key
  // is made once per filled form, so a double submit returns the same booking.
  function bookingForm(division, box) {
    const key = newKey();
    const f = { division: input("division_code", { label: "division", extra: { value: division, class: "w-110" } }),
      name: input("contact_name", { label: "contactName", extra: { autocomplete: "off", class: "w-110" } }),
      phone: input("contact_phone", { label: "contactPhone", extra: { type: "tel", autocomplete: "off", class: "w-130" } }),
      address: input("address", { extra: { autocomplete: "off", class: "w-240" } }),
      start: input("window_start", { label: "windowStart", extra: { type: "datetime-local" } }),
      end: input("window_end", { label: "windowEnd", extra: { type: "datetime-local" } }),
      note: input("note") };
    const submit = el("button", { type: "submit", text: T("book") });
    const labelled = (node, label) => el("label", { class: "inline-tools" }, T(label), node);
    return el("form", { class: "tools wrap", "data-testid": "booking-form", "data-key": key, novalidate: "",
      on: { submit: act(box, async () => {
        submit.disabled = true;
        try {
          const got = await post("/recycling/bookings", { request_id: key, division_code: f.division.value.trim(),
            contact_name: f.name.value.trim(), contact_phone: f.phone.value.trim(), address: f.address.value.trim(),
            window_start: cst(f.start.value), window_end: cst(f.end.value), note: f.note.value.trim() });
          // Listed from the first page of all statuses, under the division
          // shown if it holds the booking, else under the booking's own.
          const made = got.booking;
          const shown = current.get("division") || "";
          current = new URLSearchParams(current);
          ["bookings_page", "bookings_status"].forEach((k) => current.delete(k));
          if (!made.division_code.startsWith(shown)) current.set("division", made.division_code);
          window.history.replaceState(null, "", hashOf(current));
          justBooked = made;
          return { kind: "booking", id: made.id, created: got.created !== false };
        } finally { submit.disabled = false; }
      }) } },
    el("strong", { text: T("bookByPhone") }), divisionField(f.division), f.name, f.phone, f.address,
    labelled(f.start, "windowStart"), labelled(f.end, "windowEnd"), f.note, submit);
  }

  function bookingsPart(bookings, division, page) {
    const box = errorBox("booking-error");
    const rows = bookings.map((b) => bookingRow(b, box));
    if (justBooked && justBooked.division_code.startsWith(division) && !bookings.some((b) => b.id === justBooked.id)) {
      rows.unshift(bookingRow(justBooked, box, true));
    }
    const status = current.get("bookings_status") || "";
    const filter = el("select", { name: "bookings_status", "data-testid": "bookings-status", "aria-label": T("status"),
      on: { change: () => goWith({ bookings_status: filter.value, bookings_page: "" }) } },
    el("option", { value: "", text: T("allStatuses") }), BOOKING_STATUSES.map((s) => el("option", { value: s, text: T(s) })));
    filter.value = BOOKING_STATUSES.includes(status) ? status : "";
    const part = section("bookings-section", "bookings", bookingForm(division, box), box,
      el("div", { class: "tools" }, filter),
      table("bookings", ["contact", "phone", "address", "window", "note", "status", "organisation", "collected", "actions"], rows),
      pager("bookings", page));
    part.dataset.status = filter.value; // the status listed ("" for all)
    return part;
  }

  async function render(params) {
    current = params;
    const gen = ++renders;
    const division = params.get("division") || "";
    const view = window.zy.view();
    if (!view.querySelector("[data-testid=recycling-title]")) view.replaceChildren(el("p", { text: T("loading") }));
    // Each list loads on its own: one failing leaves the others (and the forms) usable.
    const scope = { division_code: division };
    const paged = (list) => ({ page_size: sizeOf(params, list), page_token: params.get(`${list}_page`) });
    const status = BOOKING_STATUSES.includes(params.get("bookings_status")) ? params.get("bookings_status") : "";
    const got = await Promise.allSettled([
      get(`/recycling/bins?${qs({ ...scope, page_size: division ? 500 : 100 })}`),
      get(`/recycling/collections?${qs({ ...scope, ...paged("collections") })}`),
      get(`/recycling/drives?${qs({ ...scope, ...paged("drives") })}`),
      get(`/recycling/bookings?${qs({ ...scope, status, ...paged("bookings") })}`)]);
    // Without the campaigns (a failure) the pickers offer "none" only.
    const seen = await window.zy.campaigns.list().catch(() => []);
    if (gen !== renders) return undefined; // a later render took over
    campaigns = seen;
    const failures = got.filter((g) => g.status === "rejected").map((g) => g.reason);
    if (failures.some((err) => err.status === 401)) return undefined;
    if (failures.length === got.length && failures.every((err) => err.status === 403)) return window.zy.renderDenied();
    if (!location.hash.startsWith(ROUTE)) return undefined; // the user moved on meanwhile
    const [bins, collections, drives, bookings] = got.map((g) => (g.status === "fulfilled" ? g.value : {}));
    // Division names beside the codes: one lookup per distinct parent.
    await window.zy.divisions.load([...(bins.bins || []), ...(collections.collections || []), ...(drives.drives || [])]
      .map((x) => x.division_code));
    if (gen !== renders) return undefined;
    const parts = [binsPart(bins.bins || [], division, bins.page?.next_page_token),
      collectionsPart(collections.collections || [], division, collections.page),
      drivesPart(drives.drives || [], division, drives.page),
      bookingsPart(bookings.bookings || [], division, bookings.page)];
    got.forEach((g, i) => {
      if (g.status !== "rejected") return;
      const box = errorBox("load-error");
      say(box, g.reason);
      parts[i].querySelector("h3").after(box);
    });
    const said = el("p", { class: "notice", role: "status", "data-testid": "recycling-notice" });
    if (notice) {
      saves += 1;
      said.textContent = T(notice.created === false ? "alreadyBooked" : "saved");
      said.dataset.seq = String(saves);
      if (notice.kind) said.dataset.kind = notice.kind;
      if (notice.id) said.dataset.id = notice.id;
      if (notice.created !== undefined) said.dataset.created = String(notice.created);
      notice = null;
    }
    view.replaceChildren(el("h2", { "data-testid": "recycling-title", text: T("recycling") }), partsNav(), said, ...parts);
    return undefined;
  }

  // Coming to the page (or paging, filtering) shows the lists as they are.
  window.zy.pages["/recycling"] = (rest, params) => { justBooked = null; return render(params); };
})();
