// Special campaigns (专项行动) as the forms that tag a fact to one see them
// (zy.campaigns): the campaigns the user sees (GET /campaigns: published at
// or above the user's node, or below it) and a native select of those open
// to a fact: the campaign covers the fact's division (its code is a prefix
// of the division's) and its window holds the fact's day (today by
// default, China time). The service checks the same again and refuses the
// rest naming `campaign_id`; the select only spares the user a refusal.
// Words: pages/campaigns.text.js ("cg").
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const T = zy.scoped("cg");

  // Today as a China calendar day (UTC+8 all year), YYYY-MM-DD.
  const today = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

  // Every campaign the user sees (at most 4 pages of 500), asked each time
  // a page is drawn: a window the publisher narrowed shows at the next draw.
  const list = () => zy.allPages("/campaigns", "campaigns", 4);

  // Whether a fact at `division` on `day` may carry the campaign; an empty
  // division (not typed yet) leaves only the window to check.
  const opens = (c, division, day) => (!division || division.startsWith(c.division_code))
    && c.starts_on <= day && day <= c.ends_on;

  const option = (c) => el("option", { value: c.id, "data-division": c.division_code,
    text: `${c.title}（${c.starts_on} – ${c.ends_on}）` });

  // A select named campaign_id over `campaigns`: "none" first, then those
  // open to the fact `at()` describes ({ division, day }). `refresh()`
  // filters again (the form calls it when its division or day changes),
  // keeping the choice while it stays open.
  function picker(campaigns, at = () => ({}), attrs = {}) {
    const select = el("select", { name: "campaign_id", "data-field": "campaign_id", "aria-label": T("campaign"), ...attrs });
    select.refresh = () => {
      const { division = "", day = "" } = at();
      const open = campaigns.filter((c) => opens(c, division, day || today()));
      const kept = select.value;
      select.replaceChildren(el("option", { value: "", text: T("noCampaign") }), ...open.map(option));
      select.value = open.some((c) => c.id === kept) ? kept : "";
      select.dataset.count = String(open.length);
    };
    select.refresh();
    return select;
  }

  zy.campaigns = { today, list, opens, picker };
})();
