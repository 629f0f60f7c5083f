// My training: the courses the volunteer attended with their training hours
// (GET /me/training, the token's volunteer only). Training hours are kept
// apart from service hours (they never reach the hours service), so this
// page shows them on their own, beside "My service".

import { el, failed, get, hours, t as shellT, view, when, words } from "../kit.js";
import text from "./training.text.js";

const T = words("tr", text);

function item(a) {
  return el("li", { "data-testid": "training", "data-id": a.id },
    el("div", { class: "row" }, el("strong", { text: a.course_title }), el("span", { "data-testid": "training-hours", text: hours(a.hours) })),
    el("p", { class: "muted", text: a.starts_at ? when(a.starts_at) : when(a.recorded_at) }));
}

async function renderTraining() {
  view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
  let got;
  try { got = await get("/me/training?page_size=100"); } catch (err) { return failed(err); }
  const list = got.attendances || [];
  view().replaceChildren(
    el("section", { class: "card" }, el("h1", { text: T("title") }), el("p", { class: "hint", text: T("intro") }),
      el("div", { class: "figures" }, el("div", { class: "figure", "data-testid": "training-total" },
        el("div", { class: "v", text: hours(got.total_hours) }), el("div", { class: "k", text: T("total") })))),
    el("section", { class: "card", "data-testid": "trainings" },
      list.length ? el("ul", { class: "list" }, list.map(item))
        : el("p", { class: "empty", "data-testid": "no-training", text: T("none") })));
  return undefined;
}

export const routes = { "/training": { render: renderTraining, tab: "me" } };
