// Volunteers' names (masked, as the registration service shows them, e.g.
// "张**") for the queues that carry only a volunteer's id and number
// (zy.volunteerNames). The distinct volunteers of a page are asked for in
// one call, GET /volunteers?ids=<id>&ids=<id>… (at most 100 ids a call; a
// longer page takes one call per 100), and kept for the session of the page.
// Registration answers the list as it always does, in the user's scope: a
// volunteer the user may not read is simply not returned and keeps showing
// the number alone.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const names = new Map(); // volunteer id -> masked name ("" when unknown)
  const AT_ONCE = 100; // registration's limit on ids per call

  async function ask(ids) {
    const query = new URLSearchParams(ids.map((id) => ["ids", id]));
    query.set("page_size", String(ids.length));
    let found = [];
    try {
      found = (await zy.get(`/volunteers?${query}`)).volunteers || [];
    } catch (err) {
      if (err.status === 401) throw err;
    }
    for (const id of ids) names.set(id, "");
    for (const v of found) names.set(v.id, v.name || "");
  }

  async function load(ids) {
    const wanted = [...new Set(ids.filter((id) => id && !names.has(id)))];
    const calls = [];
    for (let i = 0; i < wanted.length; i += AT_ONCE) calls.push(ask(wanted.slice(i, i + AT_ONCE)));
    await Promise.all(calls);
  }

  const name = (id) => names.get(id) || "";
  // A table cell: the volunteer's number and, after it, the masked name.
  const cell = (id, number, attrs = {}) => el("td", { "data-volunteer": id || "", ...attrs },
    number || id || "", names.get(id) ? el("span", { class: "muted volunteer-name", text: ` ${names.get(id)}` }) : "");

  zy.volunteerNames = { load, name, cell };
})();
