// The volunteer's account: sign in (volunteer number or phone + password),
// self-registration (POST /me/register, public) and the "me" tab (GET /me)
// with sign-out.

import {
  api, chinaToday, clearErrors, el, errorBox, failed, fieldName, forget, go, labelled, lang, post,
  serviceFields, setToken, showError, t as shellT, token, uuid, view, when, whoAmI, words,
} from "../kit.js";
import { divisionPath, divisionPicker } from "../divisions.js";
import text from "./account.text.js";

const T = words("acc", text);

// -- sign in --------------------------------------------------------------------

function renderSignIn(rest, params) {
  if (token()) forget();
  const box = errorBox("signin-error");
  if (params.get("expired")) { box.textContent = T("expired"); box.hidden = false; }
  const user = el("input", { name: "username", autocomplete: "username", autocapitalize: "off", required: true });
  const pass = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "signin-submit", text: T("signIn") });
  const form = el("form", { "data-testid": "signin-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    try {
      const r = await api("/login", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: user.value.trim(), password: pass.value }) });
      setToken((await r.json()).access_token);
      forget();
      go(params.get("next") || "#/find");
    } catch (err) {
      if (err.status === 401) { box.textContent = T("badLogin"); box.hidden = false; } else showError(box, err, form);
    } finally { submit.disabled = false; }
  } } },
  labelled("username", T("username"), user, T("usernameHint")),
  labelled("password", T("password"), pass), submit, box);
  view().replaceChildren(el("section", { class: "card" }, el("h1", { text: T("signInTitle") }), form),
    el("section", { class: "card" }, el("p", { text: T("newHere") }),
      el("a", { class: "button", href: "#/register", "data-testid": "to-register", text: T("register") })));
}

// -- self-registration -------------------------------------------------------------

// The birth date an 18-digit resident ID number carries (GB 11643), or null.
function birthDate(idNumber) {
  const m = /^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dXx]$/.exec(idNumber.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}
// Whether the person born on `born` (YYYY-MM-DD) is under 14 today in China.
// Only to show the guardian's fields: the service decides.
function under14(born) {
  if (!born) return false;
  const [y, m, d] = born.split("-").map(Number);
  const [ty, tm, td] = chinaToday().split("-").map(Number);
  const age = ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
  return age >= 0 && age < 14;
}

async function renderRegister() {
  const box = errorBox("register-error");
  const input = (name, attrs = {}) => el("input", { name, "data-testid": `reg-${name}`, ...attrs });
  const name = input("name", { autocomplete: "name" });
  const idNumber = input("id_number", { autocomplete: "off", maxlength: "18", autocapitalize: "characters" });
  const phone = input("phone", { type: "tel", inputmode: "numeric", autocomplete: "tel", maxlength: "11" });
  const skills = input("skills", { placeholder: T("skillsHint") });
  const password = input("password", { type: "password", autocomplete: "new-password" });
  const password2 = input("password2", { type: "password", autocomplete: "new-password" });
  const picker = divisionPicker("reg-division", { onError: (err) => showError(box, err) });
  const fields = el("div", { class: "checks", "data-testid": "reg-fields" });
  const gName = input("guardian_name");
  const gPhone = input("guardian_phone", { type: "tel", inputmode: "numeric", maxlength: "11" });
  const gRelation = input("guardian_relation", { placeholder: T("relationHint") });
  const gConsent = el("input", { type: "checkbox", name: "guardian_consent", "data-testid": "reg-guardian_consent" });
  const guardian = el("fieldset", { "data-testid": "reg-guardian", hidden: true },
    el("legend", { text: T("guardian") }), el("p", { class: "hint", text: T("guardianWhy") }),
    labelled("guardian.name", T("guardianName"), gName),
    labelled("guardian.phone", T("guardianPhone"), gPhone),
    labelled("guardian.relation", T("guardianRelation"), gRelation),
    el("div", { class: "field", "data-field": "guardian.consent" },
      el("label", { class: "check" }, gConsent, el("span", { class: "label", text: T("guardianConsent") })),
      el("small", { class: "field-error error", "data-testid": "error-guardian.consent", role: "alert", hidden: true })),
    el("span", { "data-field": "guardian", "data-label": T("guardian") },
      el("small", { class: "field-error error", "data-testid": "error-guardian", role: "alert", hidden: true })));
  idNumber.addEventListener("input", () => { guardian.hidden = !under14(birthDate(idNumber.value)); });

  const submit = el("button", { type: "submit", class: "primary", "data-testid": "reg-submit", text: T("registerSubmit") });
  // One key for this form: a repeat after a lost answer returns the first
  // registration instead of a duplicate error.
  const requestId = uuid();
  const form = el("form", { "data-testid": "register-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    if (password.value !== password2.value) {
      const node = form.querySelector("[data-field=password2] .field-error");
      node.textContent = T("passwordsDiffer"); node.hidden = false;
      return;
    }
    const body = {
      name: name.value.trim(), id_number: idNumber.value.trim().toUpperCase(), phone: phone.value.trim(),
      home_division_code: picker.value(),
      service_fields: [...fields.querySelectorAll("input:checked")].map((c) => c.value),
      skills: skills.value.split(/[,，、;；]/).map((s) => s.trim()).filter(Boolean),
      password: password.value,
      request_id: requestId,
    };
    if (!guardian.hidden) {
      body.guardian = { name: gName.value.trim(), phone: gPhone.value.trim(), relation: gRelation.value.trim(),
        consent: gConsent.checked };
    }
    submit.disabled = true;
    try {
      const got = await post("/me/register", body);
      renderRegistered(got);
    } catch (err) { showError(box, err, form); } finally { submit.disabled = false; }
  } } },
  labelled("name", T("name"), name),
  labelled("id_number", T("idNumber"), idNumber),
  labelled("phone", T("phone"), phone),
  el("div", { class: "field", "data-field": "home_division_code" }, el("span", { class: "label", text: T("home") }),
    picker, el("small", { class: "hint", text: T("homeHint") }),
    el("small", { class: "field-error error", "data-testid": "error-home_division_code", role: "alert", hidden: true })),
  el("fieldset", { class: "field", "data-field": "service_fields" }, el("legend", {}, el("span", { class: "label", text: T("fields") })),
    fields, el("small", { class: "field-error error", "data-testid": "error-service_fields", role: "alert", hidden: true })),
  labelled("skills", T("skills"), skills),
  guardian,
  labelled("password", T("password"), password, T("passwordHint")),
  labelled("password2", T("password2"), password2),
  submit, box);
  view().replaceChildren(el("section", { class: "card" }, el("h1", { text: T("registerTitle") }),
    el("p", { class: "hint", text: T("registerIntro") }), form),
  el("p", { class: "centred" }, el("a", { href: "#/signin", text: T("haveAccount") })));
  try {
    const list = await serviceFields();
    fields.replaceChildren(...list.map((f) => el("label", { class: "check" },
      el("input", { type: "checkbox", name: "service_fields", value: f.code }), el("span", { text: fieldName(f.code) }))));
  } catch (err) { showError(box, err); }
}

function renderRegistered(got) {
  view().replaceChildren(el("section", { class: "card", "data-testid": "registered" },
    el("h1", { text: T("registeredTitle") }),
    el("p", { text: T("awaiting") }),
    el("dl", { class: "facts" }, el("dt", { text: T("number") }),
      el("dd", { "data-testid": "registered-number", text: got.volunteer_number || got.volunteer?.volunteer_number || "" })),
    el("p", { class: "hint", text: T("signInWith") }),
    el("div", { class: "actions" }, el("a", { class: "button primary", href: "#/signin", "data-testid": "to-signin", text: T("signIn") }))));
}

// -- me ----------------------------------------------------------------------------

const STATUS_BADGE = { VOLUNTEER_STATUS_VERIFIED: "good", VOLUNTEER_STATUS_PENDING: "", VOLUNTEER_STATUS_REJECTED: "grey" };

async function renderMe() {
  view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
  let me;
  try { [me] = await Promise.all([whoAmI(), serviceFields().catch(() => [])]); } catch (err) { return failed(err); }
  const v = me.volunteer || {};
  const account = me.account || me;
  const status = v.status || "";
  const facts = [
    ["number", v.volunteer_number || account.username, "me-number"],
    ["name", v.name],
    ["phone", v.phone],
    ["home", v.home_division_code, "me-home"],
    ["fields", (v.service_fields || []).map(fieldName).join(lang() === "zh" ? "、" : ", ")],
    ["skills", (v.skills || []).join(lang() === "zh" ? "、" : ", ")],
    ["registeredAt", when(v.registered_at, "day")],
  ].filter(([, value]) => value);
  const out = el("button", { type: "button", "data-testid": "signout", text: T("signOut"), on: { click: () => {
    setToken(null); forget(); go("#/signin");
  } } });
  view().replaceChildren(
    el("section", { class: "card", "data-testid": "me" },
      el("h1", { text: T("meTitle") }),
      status ? el("span", { class: `badge ${STATUS_BADGE[status] ?? ""}`, "data-testid": "me-status", "data-status": status, text: T(status) }) : "",
      status === "VOLUNTEER_STATUS_PENDING" ? el("p", { class: "hint", text: T("awaiting") }) : "",
      status === "VOLUNTEER_STATUS_REJECTED" && v.rejection_reason ? el("p", { class: "error", text: `${T("rejectedWhy")}${v.rejection_reason}` }) : "",
      el("dl", { class: "facts" }, facts.map(([k, value, testid]) => [el("dt", { text: T(k) }), el("dd", { "data-testid": testid, text: value })]))),
    el("section", { class: "card" }, el("div", { class: "actions" },
      el("a", { class: "button", href: "#/sign-ups", "data-testid": "to-sign-ups", text: T("mySignUps") }),
      el("a", { class: "button", href: "#/certificates", "data-testid": "to-certificates", text: T("myCertificates") }),
      el("a", { class: "button", href: "#/training", "data-testid": "to-training", text: T("myTraining") }),
      el("a", { class: "button", href: "#/transfer", "data-testid": "to-transfer", text: T("myTransfer") }),
      out)),
  );
  // The home division by name, once the division lookups answer.
  const home = view().querySelector("[data-testid=me-home]");
  if (home) {
    home.dataset.code = v.home_division_code;
    divisionPath(v.home_division_code).then((name) => { if (name) home.textContent = name; });
  }
}

export const routes = {
  "/signin": { render: renderSignIn, open: true },
  "/register": { render: renderRegister, open: true },
  "/me": { render: renderMe, tab: "me" },
};
