// Moving home (记录转移接续): the volunteer asks for their record to move to a
// township or village of the new home (POST /me/transfers with
// to_division_code and consent), follows their requests (GET /me/transfers:
// status, both homes by name, dates, a refusal's reason) and withdraws a
// pending one after confirming (POST /me/transfers/{id}/cancel). The new
// home's office accepts or refuses in the console.
//
// The consent text is the service's (GET /me/transfers answers it), shown as
// it is: the request records exactly that text.

import {
  clearErrors, el, enc, errorBox, failed, forget, get, go, post, setToken, showError, t as shellT, view, when, whoAmI,
  words,
} from "../kit.js";
import { divisionPath, divisionPicker } from "../divisions.js";
import text from "./transfer.text.js";

const T = words("tf", text);
const PENDING = "TRANSFER_STATUS_PENDING";
const BADGE = { TRANSFER_STATUS_ACCEPTED: "good", TRANSFER_STATUS_CANCELLED: "grey", TRANSFER_STATUS_REFUSED: "grey" };
const DECIDED = {
  TRANSFER_STATUS_ACCEPTED: "acceptedAt", TRANSFER_STATUS_REFUSED: "refusedAt", TRANSFER_STATUS_CANCELLED: "cancelledAt",
};

// -- the request form -----------------------------------------------------------------

function requestForm(consentText) {
  const box = errorBox("transfer-error");
  const picker = divisionPicker("transfer-division", { onError: (err) => showError(box, err) });
  const consent = el("input", { type: "checkbox", name: "consent", "data-testid": "transfer-consent" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "transfer-submit", text: T("submit") });
  const fieldError = (key) => el("small", { class: "field-error error", "data-testid": `error-${key}`, role: "alert", hidden: true });
  const form = el("form", { "data-testid": "transfer-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      await post("/me/transfers", { to_division_code: picker.value(), consent: consent.checked });
      go("#/transfer?done=requested");
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { submit.disabled = false; }
  } } },
  el("div", { class: "field", "data-field": "to_division_code" }, el("span", { class: "label", text: T("newHome") }),
    picker, el("small", { class: "hint", text: T("newHomeHint") }), fieldError("to_division_code")),
  el("div", { class: "callout", "data-testid": "transfer-what" },
    el("p", {}, el("strong", { text: T("moves") }), " ", T("movesWhat")),
    el("p", {}, el("strong", { text: T("stays") }), " ", T("staysWhat"))),
  el("div", { class: "field", "data-field": "consent", "data-label": T("consent") },
    el("p", { class: "hint", text: T("consentHint") }),
    el("label", { class: "check consent" }, consent,
      // Chinese, then English, each on its own lines; the words unchanged.
      el("span", { class: "prose", "data-testid": "transfer-consent-text", text: consentText.replace(" / ", "\n") })),
    fieldError("consent")),
  submit, box);
  return form;
}

// -- my requests ------------------------------------------------------------------------

// A home by name (the service's, until the whole path is known), else by code.
const home = (name, code) => name || code || "";

function cancelControl(tr, box) {
  const ask = el("button", { type: "button", "data-testid": "transfer-cancel", text: T("cancel") });
  const yes = el("button", { type: "button", class: "primary", "data-testid": "transfer-cancel-confirm", text: T("confirmYes") });
  const no = el("button", { type: "button", "data-testid": "transfer-cancel-keep", text: T("confirmNo") });
  const confirm = el("div", { "data-testid": "transfer-confirm", role: "group", hidden: true },
    el("p", { class: "error", text: T("confirmCancel") }), el("div", { class: "actions" }, yes, no));
  ask.addEventListener("click", () => { ask.hidden = true; confirm.hidden = false; yes.focus(); });
  no.addEventListener("click", () => { confirm.hidden = true; ask.hidden = false; ask.focus(); });
  yes.addEventListener("click", async () => {
    clearErrors(box);
    yes.disabled = true;
    try {
      await post(`/me/transfers/${enc(tr.id)}/cancel`);
      go("#/transfer?done=cancelled");
    } catch (err) { if (err.status !== 401) showError(box, err); } finally { yes.disabled = false; }
  });
  return [el("div", { class: "actions" }, ask), confirm];
}

function transferItem(tr) {
  const box = errorBox("transfer-item-error");
  const decided = DECIDED[tr.status];
  return el("li", { "data-testid": "transfer", "data-id": tr.id, "data-status": tr.status, "data-to": tr.to_division_code },
    el("div", { class: "row" },
      el("span", { class: `badge ${BADGE[tr.status] ?? ""}`, "data-testid": "transfer-status", text: T(tr.status) })),
    el("dl", { class: "facts" },
      el("dt", { text: T("from") }), el("dd", { "data-testid": "transfer-from", "data-code": tr.from_division_code,
        text: home(tr.from_division_name, tr.from_division_code) }),
      el("dt", { text: T("to") }), el("dd", { "data-testid": "transfer-to", "data-code": tr.to_division_code,
        text: home(tr.to_division_name, tr.to_division_code) })),
    el("p", { class: "muted", text: `${T("requestedAt")}${when(tr.requested_at)}` }),
    decided && tr.decided_at ? el("p", { class: "muted", "data-testid": "transfer-decided", text: `${T(decided)}${when(tr.decided_at)}` }) : "",
    tr.status === "TRANSFER_STATUS_REFUSED" && tr.reason
      ? el("p", { class: "error", "data-testid": "transfer-reason", text: `${T("reason")}${tr.reason}` }) : "",
    tr.status === PENDING ? cancelControl(tr, box) : "",
    box);
}

// -- the page -----------------------------------------------------------------------------

// After a transfer is accepted the token signed in before it still carries
// the old home's scope, where the volunteer no longer is (GET /me answers
// 404): signing in again gives one for the new home.
function signInAgain() {
  return el("div", { class: "callout", "data-testid": "transfer-moved" }, el("p", { text: T("movedHint") }),
    el("div", { class: "actions" }, el("button", { type: "button", class: "primary", "data-testid": "transfer-signin-again",
      text: T("signInAgain"), on: { click: () => { setToken(null); forget(); go(`#/signin?next=${enc("#/me")}`); } } })));
}

async function renderTransfer(_rest, params) {
  view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
  let got;
  let me;
  try { [got, me] = await Promise.all([get("/me/transfers"), whoAmI().catch(() => null)]); } catch (err) { return failed(err); }
  const list = got.transfers || [];
  const pending = list.find((tr) => tr.status === PENDING);
  const done = ["requested", "cancelled"].includes(params.get("done")) ? params.get("done") : "";
  // The notice once: a reload shows the page without it.
  if (done) history.replaceState(null, "", "#/transfer");
  const current = me?.volunteer?.home_division_code || "";
  // The newest request accepted, and "me" not (yet) at its new home.
  const moved = list[0]?.status === "TRANSFER_STATUS_ACCEPTED" && current !== list[0].to_division_code;
  const currentHome = el("dd", { "data-testid": "transfer-current", "data-code": current, text: current });
  view().replaceChildren(
    el("section", { class: "card", "data-testid": "transfer-page" },
      el("h1", { text: T("title") }), el("p", { class: "hint", text: T("intro") }),
      current && !moved ? el("dl", { class: "facts" }, el("dt", { text: T("currentHome") }), currentHome) : "",
      moved ? signInAgain() : "",
      done ? el("p", { class: "notice", "data-testid": `transfer-${done}`, role: "status", text: T(done) }) : "",
      // No new request from a token of the old home: it would not find the volunteer.
      pending ? el("p", { class: "callout", "data-testid": "transfer-pending-one", text: T("pendingOne") })
        : !moved && requestForm(got.consent_text || "")),
    el("section", { class: "card", "data-testid": "transfers" }, el("h2", { text: T("mine") }),
      list.length ? el("ul", { class: "list" }, list.map(transferItem))
        : el("p", { class: "empty", "data-testid": "no-transfers", text: T("none") })),
    el("a", { href: "#/me", text: shellT("back") }));
  // Each home from the province down, once the division lookups answer.
  const homes = [...view().querySelectorAll("[data-testid=transfer-from], [data-testid=transfer-to]")];
  if (current && !moved) homes.push(currentHome);
  homes.forEach((dd) => divisionPath(dd.dataset.code).then((name) => { if (name) dd.textContent = name; }));
  return undefined;
}

export const routes = { "/transfer": { render: renderTransfer, tab: "me" } };
