// Volunteers' names (masked, as the registration service shows them, e.g.
// "张**") for the queues that carry only a volunteer's id and number
// (zy.volunteerNames). There is no batch lookup by id in the API yet, so
// each distinct volunteer is asked for once (GET /volunteers/<id>), a few
// at a time, and kept for the session of the page: a queue of 100 records
// of 10 volunteers costs 10 calls, never one per row. A volunteer the user
// may not read keeps showing the number alone.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const names = new Map(); // volunteer id -> masked name ("" when unknown)
  const AT_ONCE = 6;

  async function load(ids) {
    const wanted = [...new Set(ids.filter((id) => id && !names.has(id)))];
    let next = 0;
    const worker = async () => {
      while (next < wanted.length) {
        const id = wanted[next];
        next += 1;
        try {
          names.set(id, (await zy.get(`/volunteers/${encodeURIComponent(id)}`)).volunteer?.name || "");
        } catch (err) {
          if (err.status === 401) throw err;
          names.set(id, "");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(AT_ONCE, wanted.length) }, worker));
  }

  const name = (id) => names.get(id) || "";
  // A table cell: the volunteer's number and, after it, the masked name.
  const cell = (id, number, attrs = {}) => el("td", { "data-volunteer": id || "", ...attrs },
    number || id || "", names.get(id) ? el("span", { class: "muted volunteer-name", text: ` ${names.get(id)}` }) : "");

  zy.volunteerNames = { load, name, cell };
})();
