// Commendation (表彰) console page, #/commendation[?round=<id>]: star
// requests awaiting the caller's level, the award rounds the caller sees
// with the nominations awaiting its level, a nomination form for an open
// round, and, for a round the caller's unit opened, the public notice, the
// final award and the objections.
// #/commendation/notice?round=<id>: a round's public notice (公示) as anyone
// in the round's area sees it, with an objection form per entry.
"use strict";

(() => {
  const { el } = window.zy;
  const T = window.zy.scoped("cm");

  const ROUTE = "#/commendation";
  const { get, post, uuid } = window.zy;
  const zh = () => window.zy.lang() === "zh";
  const say = window.zy.showError; // "comment: 必填", with data-field / data-rule
  const errorBox = (id) => el("p", { class: "error", role: "alert", "data-testid": id });
  const head = (keys) => el("thead", {}, el("tr", {}, keys.map((k) => el("th", { text: T(k) }))));
  const left = { class: "prose" };
  let current = null;
  const here = (route) => location.hash.split("?")[0] === route;
  // Dates in China time, in the page's language: "2026-05-08" is a China day.
  const day = (iso) => window.zy.when(iso, "day");
  const { when } = window.zy;
  // Runs an action; on success re-renders the page, on failure says why in `box`.
  const act = (box, fn) => async () => {
    box.textContent = "";
    try { await fn(); render(current); } catch (err) { if (err.status !== 401) say(box, err); }
  };

  function starSection(requests) {
    const box = errorBox("star-error");
    if (!requests.length) {
      return el("section", { class: "card", "data-testid": "star-requests" },
        el("h3", { text: T("starRequests") }), el("p", { "data-testid": "star-empty", text: T("noneStars") }), box);
    }
    const rows = requests.map((r) => {
      const reason = el("input", { name: "reason", placeholder: T("reason"), "aria-label": T("reason") });
      return el("tr", { "data-id": r.id },
        window.zy.volunteerNames.cell(r.volunteer_id, r.volunteer_number, { "data-col": "volunteer" }),
        window.zy.divisions.cell(r.division_code, { "data-col": "division" }),
        el("td", { text: "★".repeat(r.stars || 0) }), el("td", { text: window.zy.num(r.hours_at_request || 0) }),
        el("td", { text: when(r.created_at) }),
        el("td", {}, el("button", { type: "button", "data-action": "approve", text: T("approve"),
          on: { click: act(box, () => post(`/commendation/star-requests/${r.id}/approve`)) } }),
        reason, el("button", { type: "button", "data-action": "reject", text: T("reject"),
          on: { click: act(box, () => post(`/commendation/star-requests/${r.id}/reject`, { reason: reason.value })) } })));
    });
    return el("section", { class: "card", "data-testid": "star-requests" }, el("h3", { text: T("starRequests") }),
      el("table", {}, head(["volunteer", "division", "stars", "hoursAtRequest", "requestedAt", "actions"]),
        el("tbody", {}, rows)), box);
  }

  function evidenceOf(n) {
    const ev = n.evidence || {};
    return el("td", { ...left, "data-col": "evidence" },
      el("div", { "data-testid": "evidence-hours", "data-value": ev.approved_hours || 0,
        text: `${T("approvedHours")}: ${window.zy.num(ev.approved_hours || 0)} · ${T("approvedRecords")}: ${window.zy.num(ev.approved_records || 0)}` }),
      conductOf(ev),
      el("ul", { class: "sublist" },
        (ev.activities || []).map((a) => el("li", { "data-testid": "evidence-activity", text: a }))));
  }

  // The nominee's evaluations and complaints when nominated (issue 14); a poor evaluation or an upheld complaint is flagged.
  function conductOf(ev) {
    const n = (key) => ev[key] || 0;
    const flagged = n("poor_evaluations") > 0 || n("complaints_upheld") > 0;
    return el("div", {
      "data-testid": "evidence-conduct", class: flagged ? "highlight" : "",
      "data-poor": n("poor_evaluations"), "data-upheld": n("complaints_upheld"),
      text: `${T("evaluatedRecords")}: ${n("evaluated_records")} · ${T("poorEvaluations")}: ${n("poor_evaluations")}`
        + ` · ${T("averageScore")}: ${n("evaluated_records") ? n("average_score").toFixed(2) : "—"}`
        + ` · ${T("complaintsUpheld")}: ${n("complaints_upheld")} · ${T("complaintsDismissed")}: ${n("complaints_dismissed")}`
        + ` · ${T("complaintsOpen")}: ${n("complaints_open")}`,
    });
  }

  function signalsOf(n) {
    return el("td", { ...left, "data-col": "signals" }, (n.signals || []).map((s) => el("div", {
      class: "error signal highlight", "data-testid": "signal", "data-code": s.code,
      text: `⚠ ${zh() ? s.detail_zh : s.detail_en}`,
    })));
  }

  function queueSection(nominations) {
    const box = errorBox("nomination-error");
    const body = nominations.length ? el("table", { "data-testid": "nomination-queue" },
      head(["nominee", "unit", "category", "evidence", "signals", "actions"]),
      el("tbody", {}, nominations.map((n) => {
        const comment = el("textarea", { name: "comment", rows: "2", placeholder: T("comment"), "aria-label": T("comment") });
        const review = (decision) => act(box, () => post(`/commendation/nominations/${n.id}/review`, { decision, comment: comment.value }));
        return el("tr", { "data-id": n.id, class: n.signals?.length ? "flagged" : "" },
          el("td", { "data-col": "nominee", text: n.nominee_name }),
          el("td", { "data-col": "unit", text: `${n.unit_name || ""} (${n.unit_division_code})` }),
          el("td", { text: T(n.category) }), evidenceOf(n), signalsOf(n),
          el("td", {}, comment, el("div", {},
            el("button", { type: "button", "data-action": "approve", text: T("approve"), on: { click: review("DECISION_APPROVE") } }),
            el("button", { type: "button", "data-action": "reject", text: T("reject"), on: { click: review("DECISION_REJECT") } }),
            el("button", { type: "button", "data-action": "return", text: T("return"), on: { click: review("DECISION_RETURN") } }))));
      }))) : el("p", { "data-testid": "nomination-empty", text: T("noneNominations") });
    return el("div", {}, el("h3", { text: T("nominationsAwaiting") }), body, box);
  }

  async function ownerSection(round) {
    const box = errorBox("owner-error");
    const status = el("p", { "data-testid": "round-status", "data-status": round.status },
      `${T("status")}: ${T(round.status)}`,
      round.notice_starts_on ? ` · ${T("notice")}: ${round.notice_starts_on} – ${round.notice_ends_on}` : "");
    const tools = el("div", { class: "tools" },
      el("button", { type: "button", "data-testid": "start-notice", text: T("startNotice"),
        on: { click: act(box, () => post(`/commendation/rounds/${round.id}/notice`)) } }),
      el("button", { type: "button", "data-testid": "finalize", text: T("finalize"),
        on: { click: act(box, () => post(`/commendation/rounds/${round.id}/finalize`)) } }));
    const objections = [];
    if (round.status !== "ROUND_STATUS_OPEN") {
      const list = (await get(`/commendation/nominations?round_id=${round.id}&page_size=500`)).nominations || [];
      const noticed = list.filter((n) => ["NOMINATION_STATUS_IN_NOTICE", "NOMINATION_STATUS_AWARDED",
        "NOMINATION_STATUS_WITHDRAWN"].includes(n.status));
      const full = await Promise.all(noticed.map((n) => get(`/commendation/nominations/${n.id}`)));
      full.forEach((f) => (f.objections || []).forEach((o) => objections.push({ ...o, nomination: f.nomination })));
    }
    const rows = objections.map((o) => {
      const verdict = el("select", { name: "upheld", "aria-label": T("status") },
        el("option", { value: "false", text: T("dismissed") }), el("option", { value: "true", text: T("upheld") }));
      const resolution = el("input", { name: "resolution", placeholder: T("resolution"), "aria-label": T("resolution") });
      const open = o.status === "OBJECTION_STATUS_OPEN";
      return el("tr", { "data-id": o.id, "data-status": o.status },
        el("td", { text: o.nomination.nominee_name }), el("td", { ...left, text: o.content }),
        el("td", { text: T(o.status) }), el("td", { ...left, text: o.resolution || "" }),
        el("td", {}, open ? [verdict, resolution, el("button", { type: "button", "data-action": "resolve", text: T("resolve"),
          on: { click: act(box, () => post(`/commendation/objections/${o.id}/resolve`,
            { upheld: verdict.value === "true", resolution: resolution.value })) } })] : []));
    });
    return el("section", { class: "card spaced", "data-testid": "round-owner" },
      el("h3", { text: `${T("roundOwner")}: ${round.title}` }), status, tools, box,
      el("h4", { text: T("objections") }),
      rows.length ? el("table", { "data-testid": "objections" },
        head(["nominee", "content", "status", "resolution", "actions"]), el("tbody", {}, rows))
        : el("p", { "data-testid": "objections-empty", text: T("noneObjections") }));
  }

  // The nomination form of an open round: individual (a volunteer of the
  // caller's scope) or collective, project, station (a name and a division).
  function nominateSection(round, me, volunteers, organisations) {
    const box = errorBox("nominate-error");
    const done = el("p", { class: "notice", "data-testid": "nominate-done" });
    const label = (key, control) => el("label", { class: "field" }, el("span", { text: T(key) }), control);
    const category = el("select", { name: "category", "data-testid": "nominate-category", "aria-label": T("category") },
      (round.categories || []).map((c) => el("option", { value: c, text: T(c) })));
    const unit = el("input", { name: "unit_division_code", "data-testid": "nominate-unit", value: me.scope_code || "",
      inputmode: "numeric", "aria-label": T("unitDivision") });
    const organisation = el("select", { name: "unit_organisation_id", "data-testid": "nominate-organisation", "aria-label": T("unitOrganisation") },
      el("option", { value: "", text: T("office") }),
      organisations.map((o) => el("option", { value: o.id, "data-division": o.division_code, text: `${o.name} (${o.division_code})` })));
    const volunteer = el("select", { name: "nominee_volunteer_id", "data-testid": "nominate-volunteer", "aria-label": T("nomineeVolunteer") },
      volunteers.length ? volunteers.map((v) => el("option", { value: v.id, "data-number": v.volunteer_number,
        text: `${v.volunteer_number} · ${v.name} · ${v.home_division_code}` })) : el("option", { value: "", text: T("noVolunteers") }));
    const nomineeName = el("input", { name: "nominee_name", "data-testid": "nominate-nominee-name", "aria-label": T("nomineeName") });
    const nomineeCode = el("input", { name: "nominee_division_code", "data-testid": "nominate-nominee-division",
      inputmode: "numeric", "aria-label": T("nomineeDivision") });
    const statement = el("textarea", { name: "statement", rows: "3", "data-testid": "nominate-statement", "aria-label": T("statement") });
    // Beyond the first page of the scope's volunteers: find one exactly by
    // volunteer number or whole ID number (GET /volunteers?q=...).
    const find = el("input", { type: "search", "data-testid": "nominate-find", "aria-label": T("findVolunteer"),
      placeholder: T("findVolunteer"), autocomplete: "off", size: "24" });
    const findButton = el("button", { type: "button", "data-testid": "nominate-find-button", text: T("find"), on: { click: async () => {
      box.textContent = ""; box.dataset.field = ""; box.dataset.rule = "";
      try {
        const found = (await get(`/volunteers?q=${encodeURIComponent(find.value.trim())}`)).volunteers || [];
        if (!found.length) { box.textContent = T("notFoundVolunteer"); box.dataset.field = "query"; return; }
        const v = found[0];
        if (![...volunteer.options].some((o) => o.value === v.id)) {
          [...volunteer.options].filter((o) => !o.value).forEach((o) => o.remove());
          volunteer.prepend(el("option", { value: v.id, "data-number": v.volunteer_number,
            text: `${v.volunteer_number} · ${v.name} · ${v.home_division_code}` }));
        }
        volunteer.value = v.id;
      } catch (err) { if (err.status !== 401) say(box, err); }
    } } });
    const individualPart = el("div", { class: "row" }, label("nomineeVolunteer", volunteer),
      label("findVolunteer", el("span", {}, find, findButton)));
    const collectivePart = el("div", { class: "row" }, label("nomineeName", nomineeName), label("nomineeDivision",
      window.zy.divisions.picker(nomineeCode, me.scope_code || "")));
    const toggle = () => {
      const individual = category.value === "individual";
      individualPart.hidden = !individual; collectivePart.hidden = individual;
    };
    category.addEventListener("change", toggle);
    organisation.addEventListener("change", () => {
      const chosen = organisation.selectedOptions[0];
      if (chosen?.dataset.division) {
        unit.value = chosen.dataset.division;
        unit.dispatchEvent(new Event("change")); // the picker follows
      }
    });
    toggle();
    let requestId = uuid();
    const submit = el("button", { type: "submit", "data-testid": "nominate-submit", text: T("nominate") });
    const form = el("form", { class: "card form spaced", "data-testid": "nominate-form", novalidate: "", on: { submit: async (e) => {
      e.preventDefault();
      box.textContent = ""; box.dataset.field = ""; box.dataset.rule = ""; done.textContent = "";
      const individual = category.value === "individual";
      const body = {
        round_id: round.id, category: category.value, unit_division_code: unit.value.trim(),
        unit_organisation_id: organisation.value, statement: statement.value.trim(), request_id: requestId,
        ...(individual ? { nominee_volunteer_id: volunteer.value }
          : { nominee_name: nomineeName.value.trim(), nominee_division_code: nomineeCode.value.trim() }),
      };
      submit.disabled = true;
      try {
        const n = (await post("/commendation/nominations", body)).nomination;
        requestId = uuid(); // the next submission is a new nomination
        done.dataset.id = n.id;
        done.dataset.status = n.status;
        done.textContent = `${T("nominated")}: ${n.nominee_name} · ${T(n.status)} · ${(n.stage_codes || []).join(" → ")}`;
        statement.value = ""; nomineeName.value = "";
      } catch (err) {
        if (err.status !== 401) say(box, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: `${T("nominateTitle")}: ${round.title}` }),
    el("div", { class: "row" }, label("category", category),
      label("unitDivision", window.zy.divisions.picker(unit, me.scope_code || "")), label("unitOrganisation", organisation)),
    individualPart, collectivePart, label("statement", statement),
    el("div", { class: "tools" }, submit), box, done);
    return form;
  }

  // Links to the rounds whose public notice runs (or ran).
  function noticeLinks(rounds) {
    const noticed = rounds.filter((r) => r.status === "ROUND_STATUS_NOTICE");
    return el("section", { class: "card spaced", "data-testid": "notice-rounds" },
      el("h3", { text: T("noticeRounds") }),
      noticed.length ? el("ul", {}, noticed.map((r) => el("li", {}, el("a", {
        href: `${ROUTE}/notice?round=${r.id}`, "data-testid": "notice-link", "data-round": r.id,
        text: `${r.title} · ${r.division_code} · ${T("noticeEnds")} ${day(r.notice_ends_on)}`,
      })))) : el("p", { text: T("noNoticeRounds") }));
  }

  // #/commendation/notice?round=<id>: the notice board and objections.
  async function renderNotice(params) {
    const roundId = params.get("round") || "";
    const asked = location.hash;
    const view = window.zy.view();
    view.replaceChildren(el("p", { text: T("loading") }));
    let round, entries;
    try {
      if (!roundId) {
        const rounds = (await get("/commendation/rounds?page_size=100")).rounds || [];
        if (location.hash !== asked) return undefined;
        view.replaceChildren(el("h2", { text: T("publicNotice") }), noticeLinks(rounds));
        return undefined;
      }
      const first = await get(`/commendation/rounds/${encodeURIComponent(roundId)}/notice?page_size=500`);
      round = first.round;
      entries = first.entries || [];
      let token = first.page?.next_page_token || "";
      for (let i = 0; token && i < 20; i += 1) {
        const more = await get(`/commendation/rounds/${encodeURIComponent(roundId)}/notice?page_size=500&page_token=${encodeURIComponent(token)}`);
        entries.push(...(more.entries || []));
        token = more.page?.next_page_token || "";
      }
    } catch (err) {
      if (location.hash !== asked) return undefined;
      // Outside the round's area the round is not found, as if it did not exist.
      if (err.status === 403 || err.status === 404) return window.zy.renderDenied();
      if (err.status !== 401) { const box = errorBox("page-error"); say(box, err); view.replaceChildren(box); }
      return undefined;
    }
    if (location.hash !== asked) return undefined;
    const running = round.status === "ROUND_STATUS_NOTICE" && entries.length > 0;
    const rows = entries.map((n) => {
      const box = el("p", { class: "error", role: "alert", "data-testid": "objection-error" });
      const filed = el("p", { class: "notice", "data-testid": "objection-done" });
      const content = el("textarea", { name: "content", rows: "2", "data-testid": "objection-content",
        placeholder: T("objectionContent"), "aria-label": T("objectionContent") });
      const submit = el("button", { type: "submit", "data-action": "object", text: T("fileObjection") });
      const form = el("form", { "data-testid": "objection-form", novalidate: "", on: { submit: async (e) => {
        e.preventDefault();
        box.textContent = ""; box.dataset.field = ""; box.dataset.rule = ""; filed.textContent = "";
        submit.disabled = true;
        try {
          const o = (await post(`/commendation/nominations/${n.nomination_id}/objections`, { content: content.value.trim() })).objection;
          filed.dataset.id = o.id;
          filed.textContent = `${T("objectionFiled")} ${o.id.slice(0, 8)} · ${when(o.filed_at)}`;
          content.value = "";
        } catch (err) {
          if (err.status !== 401) say(box, err);
        } finally { submit.disabled = false; }
      } } }, content, submit, box, filed);
      return el("tr", { "data-id": n.nomination_id },
        el("td", { "data-col": "nominee", text: n.nominee_name }),
        el("td", { "data-col": "category", text: T(n.category) }),
        el("td", { "data-col": "nominee_division", text: n.nominee_division_code }),
        el("td", { "data-col": "unit", text: `${n.unit_name || ""} (${n.unit_division_code})` }),
        el("td", { ...left, "data-col": "summary", text: n.summary || "" }),
        el("td", { "data-col": "ends", "data-value": n.notice_ends_on, text: day(n.notice_ends_on) }),
        el("td", { ...left }, form));
    });
    const period = round.notice_starts_on
      ? `${T("notice")}: ${day(round.notice_starts_on)} – ${day(round.notice_ends_on)}` : T("noticeNotRunning");
    view.replaceChildren(
      el("h2", { text: `${T("publicNotice")} · ${round.title}` }),
      el("section", { class: "card", "data-testid": "notice", "data-round": round.id, "data-status": round.status },
        el("p", { "data-testid": "notice-period", text: `${round.division_code} · ${round.year} · ${T(round.status)} · ${period}` }),
        running ? el("table", { "data-testid": "notice-entries" },
          head(["nominee", "category", "nomineeDivisionCol", "unit", "summary", "noticeEnds", "objections"]),
          el("tbody", {}, rows))
          : el("p", { "data-testid": "notice-empty", text: round.status === "ROUND_STATUS_NOTICE" ? T("noticeEmpty") : T("noticeNotRunning") }),
        el("p", {}, el("a", { href: `${ROUTE}?round=${round.id}`, "data-testid": "back-to-round", text: T("backToRounds") }))));
    return undefined;
  }

  async function render(params) {
    current = params;
    const roundId = params.get("round") || "";
    const view = window.zy.view();
    view.replaceChildren(el("p", { text: T("loading") }));
    let me, stars, rounds, queue = null;
    try {
      [me, stars, rounds] = await Promise.all([get("/me"),
        get("/commendation/star-requests?awaiting_me=true&page_size=100"),
        get("/commendation/rounds?page_size=100")]);
      if (roundId) queue = await get(`/commendation/nominations?round_id=${roundId}&awaiting_me=true&page_size=100`);
    } catch (err) {
      if (err.status === 403) return window.zy.renderDenied();
      if (err.status !== 401) { const box = errorBox("page-error"); say(box, err); view.replaceChildren(box); }
      return undefined;
    }
    if (!here(ROUTE)) return undefined; // the user moved on meanwhile
    const list = rounds.rounds || [];
    const round = list.find((r) => r.id === roundId);
    const select = el("select", { "data-testid": "round-select", "aria-label": T("chooseRound"), on: {
      change: (e) => window.zy.go(e.target.value ? `${ROUTE}?round=${e.target.value}` : ROUTE),
    } }, el("option", { value: "", text: `— ${T("chooseRound")} —` }), list.map((r) => el("option", {
      value: r.id, text: `${r.title} · ${r.division_code} · ${r.year} · ${T(r.status)}`,
    })));
    select.value = round ? round.id : "";
    const roundPart = el("section", { class: "card spaced", "data-testid": "rounds" },
      el("h3", { text: T("rounds") }), list.length ? select : el("p", { text: T("noRounds") }));
    const open = list.filter((r) => r.status === "ROUND_STATUS_OPEN");
    if (!round && open.length) {
      // The rounds taking nominations now, one click away.
      roundPart.append(el("ul", { "data-testid": "open-rounds" }, open.map((r) => el("li", {},
        el("a", { href: `${ROUTE}?round=${r.id}`, "data-round": r.id,
          text: `${r.title} · ${r.division_code} · ${T("deadline")} ${r.deadline}` })))));
    }
    if (round) {
      roundPart.append(el("p", { "data-testid": "round-info", text:
        `${T("deadline")}: ${round.deadline} · ${T("quota")}: ${round.quota_per_child} · ${T("status")}: ${T(round.status)}` }));
      if (round.status !== "ROUND_STATUS_OPEN") {
        roundPart.append(el("p", {}, el("a", { href: `${ROUTE}/notice?round=${round.id}`, "data-testid": "round-notice-link",
          text: T("viewNotice") })));
      }
      roundPart.append(queueSection(queue?.nominations || []));
    }
    let nominate = [];
    if (round && round.status === "ROUND_STATUS_OPEN" && window.zy.inGroup(me, "managers")) {
      // Volunteers and organisations of the caller's scope to choose from;
      // without them the form still takes a collective nomination.
      const [volunteers, organisations] = await Promise.all([
        get("/volunteers?page_size=500").then((d) => d.volunteers || []).catch(() => []),
        get("/organisations?page_size=500").then((d) => d.organisations || []).catch(() => []),
      ]);
      nominate = [nominateSection(round, me, volunteers.filter((v) => v.status !== "VOLUNTEER_STATUS_REJECTED"), organisations)];
    }
    let owner = [];
    if (round && round.division_code === me.scope_code) {
      try { owner = [await ownerSection(round)]; } catch (err) {
        if (err.status === 401) return undefined;
        const box = errorBox("owner-error"); say(box, err); owner = [box];
      }
    }
    // The star requests' volunteers and divisions by name: one lookup per
    // distinct volunteer and per distinct parent division.
    const requests = stars.requests || [];
    await Promise.all([window.zy.divisions.load(requests.map((r) => r.division_code)),
      window.zy.volunteerNames.load(requests.map((r) => r.volunteer_id))]).catch(() => null);
    if (!here(ROUTE)) return undefined;
    view.replaceChildren(el("h2", { text: T("commendation") }), starSection(requests), roundPart,
      ...nominate, ...owner, noticeLinks(list));
    return undefined;
  }

  window.zy.pages["/commendation"] = (rest, params) => (rest === "notice" ? renderNotice(params) : render(params));
})();
