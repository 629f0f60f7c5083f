// Training page (#/training, #/training/<course id>[?session=<id>]): the
// course catalogue offered at the user's node (its own, its ancestors' and
// its subtree's courses) with a form for a new course (admins), a course's
// sessions with a form for a new one (managers), and a session's attendance
// with the training hours. Training hours are not service hours: nothing
// here reaches the hours pages. Words: training.text.js.
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError, allPages } = zy;
  const T = zy.scoped("tr");
  const enc = encodeURIComponent;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  // A datetime-local value (Beijing wall time) as RFC 3339 (+08:00, no DST).
  const rfc = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : "");
  const when = (v) => zy.when(v, "minutes");
  const label = (text, node) => el("label", { class: "field" }, el("span", { text }), node);
  const errorBox = (id) => el("p", { class: "error", "data-testid": id });
  const table = (id, heads, rows) => el("div", { class: "table-box" }, el("table", { "data-testid": id },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: T(h) })))), el("tbody", {}, rows)));

  function form(id, fields, button, submit) {
    const box = errorBox(`${id}-error`);
    const node = el("form", { "data-testid": id, class: "spaced" }, el("div", { class: "row bottom" }, ...fields,
      el("button", { type: "submit", text: T(button) })), box);
    node.addEventListener("submit", async (e) => {
      e.preventDefault();
      box.textContent = "";
      try { await submit(); zy.go(location.hash); } catch (err) { if (err.status !== 401) showError(box, err); }
    });
    return node;
  }

  async function catalogue(me) {
    const courses = await allPages("/courses", "courses");
    const rows = courses.map((c) => el("tr", { "data-id": c.id },
      el("td", { "data-col": "title" }, el("a", { href: `#/training/${enc(c.id)}`, text: c.title })),
      el("td", { "data-col": "division_code", text: c.division_code }), el("td", { text: when(c.created_at) })));
    const parts = [el("h2", { text: T("title") }), el("p", { class: "muted", text: T("help") }),
      courses.length ? table("courses-table", ["course", "owner", "createdAt"], rows)
        : el("p", { class: "empty", "data-testid": "courses-empty", text: T("none") })];
    if (zy.inGroup(me, "admins")) {
      const title = el("input", { name: "title", "data-field": "title", maxlength: "100", "data-testid": "course-title" });
      const description = el("input", { name: "description", "data-field": "description", maxlength: "2000" });
      parts.push(el("h3", { text: T("addCourse") }), form("course-form", [label(T("courseTitle"), title), label(T("description"), description)], "save",
        () => post("/courses", { title: title.value.trim(), description: description.value.trim() })));
    }
    return el("section", { class: "card", "data-testid": "training-catalogue" }, ...parts);
  }

  async function sessionsOf(course, me, chosen) {
    const sessions = await allPages(`/training-sessions?course_id=${enc(course)}`, "sessions");
    const rows = sessions.map((s) => el("tr", { "data-id": s.id, class: s.id === chosen ? "chosen" : "" },
      el("td", { "data-col": "place", text: s.place }), el("td", { text: when(s.starts_at) }), el("td", { text: when(s.ends_at) }),
      el("td", { "data-col": "division_code", text: s.division_code }), el("td", { "data-col": "attended", text: zy.num(s.attended) }),
      el("td", {}, el("a", { href: `#/training/${enc(course)}?session=${enc(s.id)}`, "data-action": "open", text: T("open") }))));
    const parts = [el("p", {}, el("a", { href: "#/training", text: `‹ ${T("back")}` })),
      el("h2", { text: `${sessions[0]?.course_title || T("course")} · ${T("sessions")}` }), el("p", { class: "muted", text: T("timesNote") }),
      sessions.length ? table("training-sessions-table", ["place", "starts", "ends", "owner", "attended", "open"], rows)
        : el("p", { class: "empty", text: T("noSessions") })];
    if (zy.inGroup(me, "managers")) {
      const place = el("input", { name: "place", "data-field": "place", maxlength: "200" });
      const starts = el("input", { name: "starts_at", "data-field": "starts_at", type: "datetime-local" });
      const ends = el("input", { name: "ends_at", "data-field": "ends_at", type: "datetime-local" });
      parts.push(el("h3", { text: T("addSession") }), form("training-session-form",
        [label(T("place"), place), label(T("starts"), starts), label(T("ends"), ends)], "save",
        () => post("/training-sessions", { course_id: course, place: place.value.trim(), starts_at: rfc(starts.value), ends_at: rfc(ends.value) })));
    }
    return el("section", { class: "card", "data-testid": "training-sessions" }, ...parts);
  }

  async function attendanceOf(session, me) {
    const rows = (await allPages(`/training-sessions/${enc(session)}/attendances`, "attendances")).map((a) => el("tr", { "data-id": a.id },
      el("td", { "data-col": "volunteer_number", text: a.volunteer_number }), el("td", { "data-col": "hours", text: zy.num(a.hours) }),
      el("td", { text: when(a.recorded_at) })));
    const parts = [el("h3", { text: T("attendance") }), rows.length ? table("training-attendance-table", ["volunteerNumber", "hoursCol", "recordedAt"], rows)
      : el("p", { class: "empty", text: T("noAttendance") })];
    if (zy.inGroup(me, "managers")) {
      const who = el("input", { name: "volunteer_id", "data-field": "volunteer_id", "data-testid": "training-volunteer" });
      const hours = el("input", { name: "hours", "data-field": "hours", type: "number", min: "0", step: "0.5", value: "0", class: "w-90" });
      parts.push(form("training-attendance-form", [label(T("volunteer"), who), label(T("hours"), hours)], "record", async () => {
        const value = who.value.trim();
        const id = !value || UUID.test(value) ? value : (await get(`/volunteers?q=${enc(value)}`)).volunteers?.[0]?.id;
        if (id === undefined) throw new Error(T("unknownVolunteer"));
        return post(`/training-sessions/${enc(session)}/attendances`, { volunteer_id: id, hours: Number(hours.value || 0) });
      }));
    }
    return el("section", { class: "card spaced", "data-testid": "training-attendance" }, ...parts);
  }

  zy.pages["/training"] = async (rest, params) => {
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    try {
      const me = await get("/me");
      const course = decodeURIComponent(rest || "");
      const session = params.get("session");
      const parts = course ? [await sessionsOf(course, me, session)] : [await catalogue(me)];
      if (course && session) parts.push(await attendanceOf(session, me));
      view.replaceChildren(...parts);
    } catch (err) {
      if (err.status === 403) return zy.renderDenied();
      if (err.status === 401) return undefined;
      const p = errorBox("training-failed");
      showError(p, err);
      view.replaceChildren(el("section", { class: "card" }, p));
    }
    return undefined;
  };
})();
