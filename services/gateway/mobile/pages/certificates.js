// My certificates: request one for a period (POST /me/certificates), the
// ones issued (GET /me/certificates), each downloaded as its PDF
// (GET /me/certificates/{number}/pdf, with its verification QR) or shared as
// the public verification page's address, the one the PDF's QR code holds.

import { clearErrors, el, enc, errorBox, failed, get, hours, labelled, api, post, showError, t as shellT, view, when, words } from "../kit.js";
import text from "./certificates.text.js";

const T = words("cert", text);

async function download(number, box) {
  clearErrors(box);
  try {
    const r = await api(`/me/certificates/${enc(number)}/pdf`);
    const url = URL.createObjectURL(await r.blob());
    const a = el("a", { href: url, download: `${number}.pdf` });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (err) { if (err.status !== 401) showError(box, err); }
}

function certificateItem(c) {
  const box = errorBox("certificate-error");
  const verify = `${location.origin}/console/#/verify/${enc(c.number)}`;
  const period = c.period || {};
  const share = navigator.share
    ? el("button", { type: "button", "data-testid": "certificate-share", text: T("share"),
      on: { click: () => navigator.share({ title: T("certificate"), url: verify }).catch(() => null) } })
    : el("a", { class: "button", href: verify, "data-testid": "certificate-verify", text: T("verify") });
  return el("li", { "data-testid": "certificate", "data-number": c.number, "data-status": c.status },
    el("div", { class: "row" }, el("strong", { text: c.number }), el("span", { text: hours(c.hours) })),
    el("p", { class: "muted", text: [
      period.start_month ? `${when(period.start_month, "month")} – ${period.end_month ? when(period.end_month, "month") : T("toNow")}` : "",
      c.issuer_name, c.issued_on ? `${T("issuedOn")}${when(c.issued_on, "day")}` : "",
    ].filter(Boolean).join(" · ") }),
    c.status === "CERTIFICATE_STATUS_REVOKED" ? el("span", { class: "badge grey", text: T("revoked") }) : "",
    drawnLines("training", c.training), drawnLines("awards", c.awards),
    el("div", { class: "actions" }, el("button", { type: "button", class: "primary", "data-testid": "certificate-download",
      text: T("download"), on: { click: () => download(c.number, box) } }), share), box);
}

// The training or awards lines printed on a certificate (drawn from the
// records when asked for); nothing when there are none.
function drawnLines(kind, lines) {
  if (!lines?.length) return "";
  return el("div", { class: "lines", "data-testid": `lines-${kind}` }, el("p", { class: "muted", text: T(kind) }),
    el("ul", {}, lines.map((line) => el("li", { text: line }))));
}

function requestForm(done) {
  const box = errorBox("request-error");
  const start = el("input", { type: "month", name: "period_start", "data-testid": "period-start" });
  const end = el("input", { type: "month", name: "period_end", "data-testid": "period-end" });
  // Training and awards are drawn from the records (谁记录谁证明): the
  // volunteer only says whether to print them.
  const withTraining = el("input", { type: "checkbox", name: "include_training", "data-testid": "certificate-training" });
  const withAwards = el("input", { type: "checkbox", name: "include_awards", "data-testid": "certificate-awards" });
  const submit = el("button", { type: "submit", class: "primary", "data-testid": "certificate-request", text: T("request") });
  const form = el("form", { "data-testid": "certificate-form", novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    clearErrors(form, box);
    submit.disabled = true;
    const body = { period_start: start.value, include_training: withTraining.checked, include_awards: withAwards.checked };
    if (end.value) body.period_end = end.value;
    try { done(await post("/me/certificates", body)); } catch (err) {
      if (err.status !== 401) showError(box, err, form);
    } finally { submit.disabled = false; }
  } } }, labelled("period_start", T("from"), start), labelled("period_end", T("to"), end, T("toHint")),
  el("label", { class: "check", "data-field": "include_training" }, withTraining, el("span", { text: T("includeTraining") })),
  el("label", { class: "check", "data-field": "include_awards" }, withAwards, el("span", { text: T("includeAwards") })),
  el("p", { class: "hint", text: T("linesHint") }), submit, box);
  return form;
}

async function renderCertificates() {
  view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
  let got;
  try { got = await get("/me/certificates"); } catch (err) { return failed(err); }
  const list = got.certificates || [];
  const notice = el("p", { class: "notice", "data-testid": "certificate-issued", role: "status", hidden: true });
  view().replaceChildren(
    el("section", { class: "card" }, el("h1", { text: T("title") }), el("p", { class: "hint", text: T("intro") }),
      requestForm(async (made) => {
        await renderCertificates();
        const n = view().querySelector("[data-testid=certificate-issued]");
        n.textContent = `${T("issued")}${made.certificate?.number || ""}`; n.hidden = false;
      }), notice),
    el("section", { class: "card", "data-testid": "certificates" }, el("h2", { text: T("mine") }),
      list.length ? el("ul", { class: "list" }, list.map(certificateItem))
        : el("p", { class: "empty", "data-testid": "no-certificates", text: T("none") })));
}

export const routes = { "/certificates": { render: renderCertificates, tab: "me" } };
