// Projects: a project's special campaign card (专项行动): the campaign it is
// tagged to, and for a manager a picker of the campaigns open to the
// project's division today with "tag" and "untag" (PUT
// /projects/<id>/campaign; an empty campaign_id removes the tag). The
// service also wants every session to start inside the window: its refusal
// is shown naming the field. Part of the projects page (projects.js); the
// detail page (projects-detail.js) places it. Words: campaigns.text.js.
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError } = zy;
  const kit = zy.projects;
  const { enc, clear } = kit;
  const T = zy.scoped("cg");

  // The card; `done(text)` reloads the page with a notice.
  function campaignCard(project, me, done) {
    const message = el("p", { class: "error", role: "alert", "data-testid": "campaign-message" });
    const tagged = project.campaign_id || "";
    const card = el("section", { class: "card spaced", id: "campaign", "data-testid": "campaign-card",
      "data-campaign": tagged }, el("h3", { text: T("cardTitle") }), el("p", { text: zy.t("loading") }));
    const manager = zy.inGroup(me, "managers");
    const send = async (campaignId, text) => {
      clear(message);
      try {
        await post(`/projects/${enc(project.id)}/campaign`, { campaign_id: campaignId }, "PUT");
        done(text);
      } catch (err) { if (err.status !== 401) showError(message, err); }
    };
    (async () => {
      let campaigns;
      try {
        campaigns = await zy.campaigns.list();
        // A tag to a campaign the list does not hold (more than 2,000) is asked alone.
        if (tagged && !campaigns.some((c) => c.id === tagged)) campaigns.push((await get(`/campaigns/${enc(tagged)}`)).campaign);
      } catch (err) {
        card.replaceChildren(el("h3", { text: T("cardTitle") }), message);
        if (err.status !== 401) showError(message, err);
        return;
      }
      const now = campaigns.find((c) => c.id === tagged);
      const shown = now
        ? el("p", { "data-testid": "project-campaign", "data-id": now.id }, `${T("taggedTo")}: `,
          el("a", { href: `#/campaigns/${enc(now.id)}`, text: now.title }), ` （${now.starts_on} – ${now.ends_on}）`)
        : el("p", { class: "empty", "data-testid": "project-campaign", "data-id": "", text: T("notTagged") });
      const parts = [el("h3", { text: T("cardTitle") }), shown];
      if (manager) {
        const select = zy.campaigns.picker(campaigns, () => ({ division: project.division_code }),
          { "data-testid": "campaign-picker" });
        if (select.querySelector(`option[value="${CSS.escape(tagged)}"]`)) select.value = tagged;
        const label = el("label", { class: "field" }, el("span", { text: T("campaign") }), select);
        const tag = el("button", { type: "button", "data-action": "tag-campaign", text: T("tag"), on: { click: () => {
          if (!select.value) { message.textContent = T("pickOne"); message.dataset.field = "campaign_id"; return; }
          send(select.value, T("tagDone"));
        } } });
        const untag = tagged ? el("button", { type: "button", "data-action": "untag-campaign", text: T("untag"),
          on: { click: () => send("", T("untagDone")) } }) : "";
        parts.push(el("div", { class: "row bottom" }, label, el("div", { class: "tools wrap" }, tag, untag)),
          el("p", { class: "muted", text: T("pickerHelp") }));
      }
      parts.push(message);
      card.replaceChildren(...parts);
      card.dataset.loaded = "true";
    })();
    return card;
  }

  kit.campaignCard = campaignCard;
})();
