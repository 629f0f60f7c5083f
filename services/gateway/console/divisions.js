// Division names and the division picker the pages share (zy.divisions).
//
// Names come from the registration service's division lookups: the
// children of a parent (GET /divisions?parent_code=...) name every sibling
// at once, so the names of a table's codes cost one call per distinct
// parent, not one per row; a code whose parent cannot be listed (above the
// user's scope) is asked for alone (GET /divisions/<code>). Every answer is
// kept for the session of the page.
//
// The picker is one select per level below the user's scope (province →
// city → county → township → village), each listing the children of the
// one chosen above, native selects so it works on a phone. It writes the
// deepest chosen code into the page's own text input, which stays (a code
// can still be typed or pasted) and keeps its name for the form.
"use strict";

(() => {
  const zy = window.zy;
  const { el, t } = zy;
  const names = new Map(); // code -> name
  const lists = new Map(); // parent code -> Promise of its children
  const singles = new Map(); // code -> Promise of its name
  // Fixed width per level: the parent is the code's prefix one level up.
  const PARENT_LENGTH = { 4: 2, 6: 4, 9: 6, 12: 9 };
  const LEVEL_OF = { 2: "province", 4: "city", 6: "county", 9: "township", 12: "village" };
  const parentOf = (code) => (PARENT_LENGTH[code.length] ? code.slice(0, PARENT_LENGTH[code.length]) : "");

  // The children of `parent` ("" = of the user's scope), fetched once.
  function children(parent) {
    if (!lists.has(parent)) {
      const query = `/divisions?parent_code=${encodeURIComponent(parent)}`;
      lists.set(parent, zy.allPages(query, "divisions", 4)
        .then((found) => { found.forEach((d) => names.set(d.code, d.name)); return found; })
        .catch((err) => { lists.delete(parent); if (err.status === 401) throw err; return []; }));
    }
    return lists.get(parent);
  }

  function single(code) {
    if (!singles.has(code)) {
      singles.set(code, zy.get(`/divisions/${encodeURIComponent(code)}`)
        .then((got) => {
          (got.ancestors || []).forEach((a) => { if (a.name) names.set(a.code, a.name); });
          if (got.division?.name) names.set(code, got.division.name);
        })
        .catch(() => null));
    }
    return singles.get(code);
  }

  // Makes the names of `codes` known (zy.divisions.name): one call per
  // distinct parent, then one per code still unnamed.
  async function load(codes) {
    const wanted = [...new Set(codes.filter((c) => c && /^\d+$/.test(c) && !names.has(c)))];
    const parents = [...new Set(wanted.map(parentOf).filter(Boolean))];
    await Promise.all(parents.map((p) => children(p).catch(() => [])));
    await Promise.all(wanted.filter((c) => !names.has(c)).map(single));
  }

  const name = (code) => names.get(code) || "";
  // A table cell's text: the code first (what other offices quote), then the name.
  const label = (code) => (names.get(code) ? `${code} ${names.get(code)}` : code || "");
  // A table cell showing a division: the code and, muted, its name.
  const cell = (code, attrs = {}) => el("td", { "data-code": code || "", ...attrs },
    code || "", names.get(code) ? el("span", { class: "muted division-name", text: ` ${names.get(code)}` }) : "");

  // Turns the text input `input` (a division code field) into a picker
  // over the tree below `root` (the user's scope code; "" lets the service
  // use the caller's scope). Returns the element to put where the input was.
  function picker(input, root = "") {
    const levels = el("span", { class: "division-levels" });
    const testid = input.getAttribute("data-testid") || input.name;
    const box = el("span", { class: "division-picker", "data-testid": `${testid}-picker` }, levels, input);
    input.classList.add("division-code");
    input.setAttribute("inputmode", "numeric");
    input.setAttribute("autocomplete", "off");
    let generation = 0;

    // Opens the levels below `parent` at `depth`, choosing along `path` (a
    // code below the root, or "").
    async function open(parent, depth, path, gen) {
      let found;
      try { found = await children(parent); } catch (err) { return; }
      if (gen !== generation) return;
      while (levels.children.length > depth) levels.lastChild.remove();
      if (!found.length) return;
      const level = LEVEL_OF[found[0].code.length] || "division";
      const select = el("select", { "data-level": level, "data-parent": parent, "aria-label": t(`div.${level}`) },
        el("option", { value: "", text: t(`div.any_${level}`) }),
        found.map((d) => el("option", { value: d.code, text: d.name })));
      const chosen = found.find((d) => path && path.startsWith(d.code));
      if (chosen) select.value = chosen.code;
      select.addEventListener("change", () => {
        const gen2 = ++generation;
        input.value = select.value || parent || root;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        while (levels.children.length > depth + 1) levels.lastChild.remove();
        if (select.value) open(select.value, depth + 1, "", gen2);
      });
      levels.append(select);
      if (chosen) await open(chosen.code, depth + 1, chosen.code === path ? "" : path, gen);
    }
    const follow = () => {
      const gen = ++generation;
      const code = input.value.trim();
      open(root, 0, code.startsWith(root) && code !== root ? code : "", gen);
    };
    // A code typed or pasted moves the selects to it.
    input.addEventListener("change", follow);
    follow();
    return box;
  }

  zy.divisions = { load, name, label, cell, picker };
})();
