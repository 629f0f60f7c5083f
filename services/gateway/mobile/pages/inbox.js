// My notifications: the inbox registration's worker fills from the events
// that concern the volunteer (a sign-up decided, hours approved or
// corrected, a certificate issued, stars granted), newest first
// (GET /me/notifications?unread=&page_size=&page_token=), each marked read
// when opened (POST /me/notifications/{id}/read) or all at once
// (POST /me/notifications/read-all). unreadCount() feeds the header's badge.

import { clearErrors, el, enc, errorBox, failed, get, go, lang, post, query, showError, t as shellT, view, when, words } from "../kit.js";
import text from "./inbox.text.js";

const T = words("inbox", text);
const PAGE = 20;
const fill = (s, n) => s.replace("{n}", n);

// How many notifications are unread (0 when it cannot tell: the badge is
// only a hint, the page itself says what failed).
export async function unreadCount() {
  try {
    return (await get(`/me/notifications${query({ unread: true, page_size: 1 })}`)).unread_count || 0;
  } catch {
    return 0;
  }
}

function item(n, box, onRead) {
  const zh = lang() === "zh";
  const unread = !n.read_at;
  const li = el("li", { "data-testid": "notification", "data-id": n.id, "data-kind": n.kind, "data-read": unread ? "no" : "yes" },
    el("div", { class: "row" }, el("strong", { text: zh ? n.title_zh : n.title_en }),
      unread ? el("span", { class: "badge", "data-testid": "notification-unread", text: T("unread") }) : ""),
    el("p", { class: "muted", text: when(n.created_at) }),
    el("p", { text: zh ? n.body_zh : n.body_en }),
    unread ? el("div", { class: "actions" },
      el("button", { type: "button", "data-testid": "notification-read", text: T("markRead"), on: { click: async () => {
        clearErrors(box);
        try { await post(`/me/notifications/${enc(n.id)}/read`); onRead(); } catch (err) {
          if (err.status !== 401) showError(box, err);
        }
      } } })) : "");
  return li;
}

async function renderInbox(_rest, params) {
  const onlyUnread = params.get("unread") === "true";
  view().replaceChildren(el("p", { class: "muted", text: shellT("loading") }));
  // The page again through the router, so the header's badge follows.
  const reload = () => go(location.hash || "#/inbox");
  const box = errorBox("inbox-error");
  const list = el("ul", { class: "list", "data-testid": "notifications" });
  let got;
  try { got = await get(`/me/notifications${query({ unread: onlyUnread || "", page_size: PAGE })}`); } catch (err) {
    return failed(err);
  }
  const more = el("button", { type: "button", "data-testid": "notifications-more", text: shellT("more") });
  const add = (page) => {
    list.append(...(page.notifications || []).map((n) => item(n, box, reload)));
    const next = page.page?.next_page_token;
    more.hidden = !next;
    more.onclick = async () => {
      more.disabled = true;
      try { add(await get(`/me/notifications${query({ unread: onlyUnread || "", page_size: PAGE, page_token: next })}`)); }
      catch (err) { if (err.status !== 401) showError(box, err); } finally { more.disabled = false; }
    };
  };
  add(got);
  const count = got.unread_count || 0;
  const readAll = el("button", { type: "button", class: "primary", "data-testid": "notifications-read-all", text: T("allRead"),
    disabled: count === 0, on: { click: async () => {
      clearErrors(box);
      try { await post("/me/notifications/read-all"); reload(); } catch (err) { if (err.status !== 401) showError(box, err); }
    } } });
  const filter = el("a", { class: "button", "data-testid": "notifications-filter",
    href: onlyUnread ? "#/inbox" : "#/inbox?unread=true", text: onlyUnread ? T("showAll") : T("onlyUnread") });
  const empty = el("p", { class: "empty", "data-testid": "no-notifications", text: onlyUnread ? T("noUnread") : T("none") });
  view().replaceChildren(el("section", { class: "card" },
    el("div", { class: "row" }, el("h1", { text: T("title") }),
      el("span", { class: "muted", "data-testid": "unread-count", text: fill(T("unreadOf"), count) })),
    el("div", { class: "actions" }, readAll, filter), box,
    list.children.length ? list : empty, more));
}

export const routes = { "/inbox": { render: renderInbox, tab: "" } };
