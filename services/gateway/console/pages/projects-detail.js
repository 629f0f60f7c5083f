// Projects: a project's detail (#/projects/<id>[?session=<id>]): its facts,
// lifecycle actions and sessions. Part of the projects page (projects.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError } = zy;
  const kit = zy.projects;
  const { T, when, enc, clear, serviceFields, fieldName, failPage, loadMe, newRender, takeFlash } = kit;

  // -- a project's detail ---------------------------------------------------------------
  async function renderDetail(id, params) {
    const gen = newRender();
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    let me;
    let project;
    try {
      [me, project] = await Promise.all([loadMe(), get(`/projects/${enc(id)}`).then((d) => d.project), serviceFields()]);
    } catch (err) {
      if (!kit.current(gen)) return undefined;
      if (err.status === 404) {
        view.replaceChildren(el("section", { class: "card denied", "data-testid": "project-not-found" },
          el("h1", { text: "404" }), el("h2", { text: T("notFoundTitle") }), el("p", { text: T("notFound") }),
          el("a", { href: "#/projects", text: T("back") })));
        return undefined;
      }
      return failPage(err);
    }
    if (!kit.current(gen)) return undefined;
    const message = el("p", { class: "error", "data-testid": "project-message" });
    const notice = el("p", { class: "notice", "data-testid": "project-notice", text: takeFlash() });
    const status = project.status;
    const manager = zy.inGroup(me, "managers");
    const reviewer = zy.inGroup(me, "reviewers") && project.publisher !== me.username;
    const again = (text) => { kit.flash = text; zy.go(location.hash); };

    async function act(verb, body) {
      clear(message); clear(notice);
      try {
        const p = (await post(`/projects/${enc(project.id)}/${verb}`, body)).project;
        again(`${T("done")}: ${T(p.status)}`);
      } catch (err) {
        if (err.status !== 401) showError(message, err);
        // Recruiting refused for want of insurance: point at the cover card.
        if (err.body?.error?.field === "insurance") {
          const card = document.getElementById("insurance");
          card?.classList.add("attention");
          card?.scrollIntoView({ behavior: "smooth", block: "start" });
        }
      }
    }
    const button = (verb, text, onClick) => el("button", { type: "button", "data-action": verb, text, on: { click: onClick || (() => act(verb)) } });
    const actions = el("div", { class: "tools wrap middle", "data-testid": "project-actions" });
    if (manager && ["PROJECT_STATUS_DRAFT", "PROJECT_STATUS_RETURNED"].includes(status)) actions.append(button("submit", T("submit")));
    if (reviewer && status === "PROJECT_STATUS_SUBMITTED") {
      const reason = el("input", { name: "return_reason", "data-testid": "return-reason", placeholder: T("returnReason"), "aria-label": T("returnReason") });
      actions.append(button("approve", T("approve")), reason, button("return", T("return"), () => act("return", { reason: reason.value.trim() })));
    }
    if (manager && status === "PROJECT_STATUS_APPROVED") actions.append(button("publish", T("publish")));
    if (manager && status === "PROJECT_STATUS_RECRUITING") actions.append(button("start", T("start")));
    if (manager && status === "PROJECT_STATUS_IN_PROGRESS") actions.append(button("complete", T("complete")));
    if (manager && !["PROJECT_STATUS_SUBMITTED", "PROJECT_STATUS_COMPLETED", "PROJECT_STATUS_CANCELLED"].includes(status)) {
      actions.append(button("cancel", T("cancel"), () => {
        const reason = prompt(T("cancelReason"));
        if (reason !== null) act("cancel", { reason });
      }));
    }

    const el2 = (k, v, col) => [el("dt", { class: "muted", text: T(k) }), el("dd", { class: "flush", "data-col": col || k, text: v })];
    const elig = project.eligibility || {};
    const details = el("dl", { class: "facts" },
      el2("organisation", project.organisation_name), el2("division", project.division_code),
      el2("place", project.place), el2("field", fieldName(project.service_field)), el2("kind", T(project.kind)),
      el2("recruitWindow", `${when(project.recruit_starts_at)} – ${when(project.recruit_ends_at)}`),
      el2("eligibility", [elig.min_age ? `${zy.num(elig.min_age)} ${T("ageFrom")}` : T("noMinAge"),
        ...(elig.required_skills || []).map(fieldName)].join("、")),
      el2("leaderApproval", T(project.leader_approval ? "yes" : "no")),
      el2("emergency", T(project.emergency ? "yes" : "no")),
      el2("publisher", project.publisher), el2("createdAt", when(project.created_at)),
      project.published_at ? el2("publishedAt", when(project.published_at)) : [],
      project.comment ? el2("comment", project.comment, "comment") : [],
      project.description ? el2("description", project.description) : []);

    // Sessions; the chosen one (?session=) is managed below.
    const sessions = project.sessions || [];
    const chosen = sessions.find((x) => x.id === params.get("session")) || sessions[0];
    const sessionTable = el("table", { "data-testid": "sessions-table" },
      el("thead", {}, el("tr", {}, ["session", "sessionStart", "sessionEnd", "capacity", "confirmed", "waitlisted", "actions"].map((h) => el("th", { text: T(h) })))),
      el("tbody", {}, sessions.map((x, i) => el("tr", { "data-id": x.id, "data-selected": String(x === chosen), class: x === chosen ? "chosen" : "" },
        el("td", { text: `#${i + 1}` }), el("td", { "data-col": "starts_at", text: when(x.starts_at) }),
        el("td", { "data-col": "ends_at", text: when(x.ends_at) }), el("td", { "data-col": "capacity", text: zy.num(x.capacity) }),
        el("td", { "data-col": "confirmed", text: zy.num(x.confirmed) }), el("td", { "data-col": "waitlisted", text: zy.num(x.waitlisted) }),
        el("td", {}, el("a", { href: `#/projects/${enc(project.id)}?session=${enc(x.id)}`, "data-action": "manage", text: T("manage") }))))));

    const parts = [
      el("p", {}, el("a", { href: "#/projects", "data-testid": "back-to-projects", text: `‹ ${T("back")}` })),
      el("section", { class: "card", "data-testid": "project-detail", "data-id": project.id, "data-status": status },
        el("h2", { "data-testid": "project-title" }, `${project.title} `,
          el("span", { class: "badge", "data-testid": "project-status", "data-status": status, text: T(status) })),
        details, actions, message, notice),
    ];
    parts.push(kit.insuranceCard(project, me, again));
    parts.push(kit.campaignCard(project, me, again));
    if (manager && ["PROJECT_STATUS_DRAFT", "PROJECT_STATUS_RETURNED"].includes(status)) parts.push(kit.editForm(project, again));
    parts.push(el("section", { class: "card spaced" }, el("h3", { text: `${T("sessions")}（${T("timesNote")}）` }), sessionTable));
    if (chosen) parts.push(kit.sessionPanel(project, chosen, sessions.indexOf(chosen), me, gen));
    view.replaceChildren(...parts);
    return undefined;
  }

  kit.renderDetail = renderDetail;
})();
