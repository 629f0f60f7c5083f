// The division picker of the phone app: one native select per level
// (province → city → county → township → village), each listing the
// children of the one chosen above, from the public division lookup
// (GET /api/v1/public/divisions?parent_code=..., no token needed, so the
// registration form can use it). The deepest code chosen is the picker's
// value. The levels' names are the console's "div.*" words.

import { el, enc, get, t } from "./kit.js";

const LEVEL_OF = { 2: "province", 4: "city", 6: "county", 9: "township", 12: "village" };
const lists = new Map(); // parent code -> Promise of its children

function children(parent) {
  if (!lists.has(parent)) {
    lists.set(parent, get(`/public/divisions?parent_code=${enc(parent)}`)
      .then((got) => got.divisions || [])
      .catch((err) => { lists.delete(parent); throw err; }));
  }
  return lists.get(parent);
}

// The names from the province down to `code` ("陕西省 西安市 雁塔区 …"),
// each level's name read from its parent's children; "" when unknown.
const PARENT_LENGTH = { 2: 0, 4: 2, 6: 4, 9: 6, 12: 9 };
export async function divisionPath(code) {
  const chain = [];
  for (let c = code || ""; c && PARENT_LENGTH[c.length] !== undefined; c = c.slice(0, PARENT_LENGTH[c.length])) chain.unshift(c);
  try {
    const names = await Promise.all(chain.map(async (c) => (await children(c.slice(0, PARENT_LENGTH[c.length])))
      .find((x) => x.code === c)?.name || ""));
    return names.every(Boolean) ? names.join(" ") : "";
  } catch (err) { return ""; }
}

// A picker (returned element, with .value() and .set(code)); `onChange(code)`
// after each choice. `depth` limits the levels (4: down to the township).
export function divisionPicker(testid, { onChange = () => {}, depth = 5, onError = () => {} } = {}) {
  const box = el("div", { class: "division-picker", "data-testid": testid });
  let value = "";
  let generation = 0;

  async function open(parent, level, path, gen) {
    let found;
    try { found = await children(parent); } catch (err) { onError(err); return; }
    if (gen !== generation) return;
    while (box.children.length > level) box.lastChild.remove();
    if (!found.length || level >= depth) return;
    const name = LEVEL_OF[found[0].code.length] || "division";
    const select = el("select", { "data-level": name, "aria-label": t(`div.${name}`) },
      el("option", { value: "", text: t(`div.any_${name}`) }),
      found.map((d) => el("option", { value: d.code, text: d.name })));
    const chosen = found.find((d) => path && path.startsWith(d.code));
    if (chosen) select.value = chosen.code;
    select.addEventListener("change", () => {
      const gen2 = ++generation;
      value = select.value || parent;
      while (box.children.length > level + 1) box.lastChild.remove();
      onChange(value);
      if (select.value) open(select.value, level + 1, "", gen2);
    });
    box.append(select);
    if (chosen) await open(chosen.code, level + 1, path, gen);
  }

  box.value = () => value;
  box.set = (code) => { value = code || ""; return open("", 0, value, ++generation); };
  box.set("");
  return box;
}
