// Zhiyuan for volunteers, on a phone: a small single-page app over the
// gateway's own API (/api/v1, the volunteer's /me routes), served at /m/.
// Routes live in the hash: #/signin?next=..., #/find/<project id>,
// #/check-in?session=<id>&code=<code> (what the leader's QR code opens).
// The token is kept in sessionStorage like the console's; a 401 sends the
// volunteer to sign in and back. Chinese by default, English by the switch
// in the header (kept in localStorage, shared with the console).
//
// This file is the shell: the header, the tab bar and the router. Each page
// is a module under pages/ exporting its routes; their words are in
// pages/<page>.text.js; the helpers they share in kit.js; styles in app.css.

import { el, lang, loadShared, locale, setLang, t, token, whoAmI, words } from "./kit.js";
import shellText from "./app.text.js";
import * as account from "./pages/account.js";
import * as find from "./pages/find.js";
import * as checkin from "./pages/checkin.js";
import * as service from "./pages/service.js";
import * as certificates from "./pages/certificates.js";
import * as resident from "./pages/resident.js";
import * as inbox from "./pages/inbox.js";
import * as training from "./pages/training.js";
import * as transfer from "./pages/transfer.js";

words("", shellText);

// path -> { render(rest, params), open (no token needed), tab }.
const ROUTES = { ...account.routes, ...find.routes, ...checkin.routes, ...service.routes, ...certificates.routes,
  ...resident.routes, ...inbox.routes, ...training.routes, ...transfer.routes };
const TABS = [
  ["find", "#/find", "tabFind"],
  ["check-in", "#/check-in", "tabCheckIn"],
  ["service", "#/service", "tabService"],
  ["resident", "#/bookings", "tabResident"],
  ["me", "#/me", "tabMe"],
];

// The header's inbox link and its badge: how many notifications are unread,
// asked again on every page change (a page may have read some).
async function inboxBadge() {
  const link = document.getElementById("inbox");
  link.hidden = !token();
  link.querySelector(".count")?.remove();
  if (!token()) return;
  const n = await inbox.unreadCount();
  if (n > 0 && !link.querySelector(".count")) {
    link.append(el("span", { class: "count", "data-testid": "inbox-badge", "aria-label": t("inboxBadge").replace("{n}", n),
      text: n > 99 ? "99+" : String(n) }));
  }
}

function tabBar(current) {
  inboxBadge();
  const bar = document.getElementById("tabs");
  bar.hidden = !token();
  bar.replaceChildren(...TABS.map(([name, href, key]) => el("a", {
    href, "data-testid": `tab-${name}`, "aria-current": name === current ? "page" : false, text: t(key),
  })));
}

async function route() {
  document.documentElement.lang = locale();
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  const [path, rawQuery] = (location.hash.slice(1) || (token() ? "/find" : "/signin")).split("?");
  const params = new URLSearchParams(rawQuery || "");
  const key = Object.keys(ROUTES).sort((a, b) => b.length - a.length)
    .find((p) => path === p || path.startsWith(`${p}/`));
  const page = ROUTES[key] || ROUTES["/find"];
  const rest = key ? path.slice(key.length + 1) : "";
  if (!page.open && !token()) {
    // The page (with its ?session=&code= from a QR code) comes back after.
    tabBar("");
    return ROUTES["/signin"].render("", new URLSearchParams({ next: location.hash || "#/find" }));
  }
  // Who the token is, once per token: a token from before an accepted
  // transfer is exchanged here for one of the new home (kit.whoAmI), before
  // any page acts with the old home's scope.
  if (!page.open) {
    await whoAmI().catch(() => null);
    if (!token()) return undefined; // refused (401): kit.api sent it to sign in
  }
  tabBar(page.tab);
  window.scrollTo(0, 0);
  return page.render(rest, params);
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang() === "zh" ? "en" : "zh");
  route();
});
window.addEventListener("hashchange", route);
loadShared().then(() => {
  if (!location.hash) history.replaceState(null, "", token() ? "#/find" : "#/signin");
  route();
});
