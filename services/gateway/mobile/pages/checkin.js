// Check in and out: the six digits the leader's screen shows, typed, or the
// page the leader's QR code opens (#/check-in?session=<id>&code=<code>,
// scanned with the phone's camera) with them filled in. POST /me/check-in or
// /me/check-out; a wrong or expired code is the service's error on "code",
// shown under the input.

import { clearErrors, el, errorBox, labelled, post, showError, view, when, words } from "../kit.js";
import text from "./checkin.text.js";

const T = words("ci", text);

function renderCheckIn(rest, params) {
  const session = params.get("session") || "";
  const fromQr = /^\d{6}$/.test(params.get("code") || "") ? params.get("code") : "";
  const box = errorBox("check-in-error");
  const done = el("div", { class: "notice", "data-testid": "check-in-done", role: "status", hidden: true });
  const code = el("input", { name: "code", class: "code-input", "data-testid": "code", inputmode: "numeric",
    pattern: "[0-9]{6}", maxlength: "6", autocomplete: "one-time-code", value: fromQr, placeholder: "000000" });
  code.addEventListener("input", () => { code.value = code.value.replace(/\D/g, "").slice(0, 6); });
  const form = el("form", { "data-testid": "check-in-form", novalidate: true }, labelled("code", T("code"), code, T("sixDigitsHint")));
  async function send(way, button) {
    clearErrors(form, box);
    done.hidden = true;
    if (!/^\d{6}$/.test(code.value)) {
      const node = form.querySelector("[data-field=code] .field-error");
      node.textContent = T("sixDigits"); node.hidden = false;
      return;
    }
    button.disabled = true;
    try {
      const body = { code: code.value };
      if (session) body.session_id = session;
      const got = await post(`/me/${way}`, body);
      const a = got.attendance || {};
      done.replaceChildren(el("strong", { text: way === "check-in" ? T("inDone") : T("outDone") }),
        el("p", { "data-testid": "check-in-at", text: `${T("inAt")}${when(a.checked_in_at)}` }),
        a.checked_out_at ? el("p", { "data-testid": "check-out-at", text: `${T("outAt")}${when(a.checked_out_at)}` }) : "");
      done.dataset.way = way;
      done.hidden = false;
    } catch (err) { if (err.status !== 401) showError(box, err, form); } finally { button.disabled = false; }
  }
  const checkIn = el("button", { type: "submit", class: "primary", "data-testid": "check-in", text: T("checkIn") });
  const checkOut = el("button", { type: "button", "data-testid": "check-out", text: T("checkOut"),
    on: { click: () => send("check-out", checkOut) } });
  form.addEventListener("submit", (e) => { e.preventDefault(); send("check-in", checkIn); });
  form.append(el("div", { class: "actions" }, checkIn, checkOut), box);
  view().replaceChildren(el("section", { class: "card", "data-testid": "check-in-page" },
    el("h1", { text: T("title") }),
    el("p", { class: "hint", text: fromQr ? T("fromQr") : T("how") }), form, done));
  if (!fromQr) code.focus();
}

export const routes = { "/check-in": { render: renderCheckIn, tab: "check-in" } };
