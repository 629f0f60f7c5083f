// Projects: one session's panel: its sign-ups with approve/reject/withdraw,
// the rotating check-in code, the attendance with check-out and late close
// and the credited hours. Part of the projects page (projects.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el, get, post, showError, allPages } = zy;
  const kit = zy.projects;
  const { T, when, rfc, enc, clear, timers, ACTIVE_SIGN_UPS } = kit;

  // Why a session panel shows no check-in code: the project is over, it has
  // not started yet, or the code is its managers' to show.
  function codeWhy(status, manager) {
    if (status === "PROJECT_STATUS_COMPLETED") return "codeEnded";
    if (status === "PROJECT_STATUS_CANCELLED") return "codeCancelled";
    if (status === "PROJECT_STATUS_IN_PROGRESS" && !manager) return "codeManagers";
    return "codeHidden";
  }

  function sessionPanel(project, session, index, me, gen) {
    const running = project.status === "PROJECT_STATUS_IN_PROGRESS";
    const open = ["PROJECT_STATUS_RECRUITING", "PROJECT_STATUS_IN_PROGRESS"].includes(project.status);
    const manager = zy.inGroup(me, "managers");
    const sid = enc(session.id);
    const alive = () => kit.current(gen);

    // Sign-ups.
    const suError = el("p", { class: "error", "data-testid": "signups-message" });
    const suNotice = el("p", { class: "notice", "data-testid": "signups-notice" });
    const suBody = el("tbody");
    const suTable = el("table", { "data-testid": "signups-table" },
      el("thead", {}, el("tr", {}, ["queue", "volunteerNumber", "status", "signedAt", "reason", "actions"].map((h) => el("th", { text: T(h) })))), suBody);
    const suEmpty = el("p", { class: "empty", "data-testid": "signups-empty", text: T("noneSignUps"), hidden: "" });
    async function decide(s, verb, body) {
      clear(suError); clear(suNotice);
      try {
        await post(verb === "check-in" ? `/sessions/${sid}/check-in` : `/sign-ups/${enc(s.id)}/${verb}`, body);
        // Places changed: the sessions table's counts too.
        kit.flash = `${T("done")}: ${s.volunteer_number}`;
        zy.go(location.hash);
      } catch (err) {
        if (err.status !== 401) showError(suError, err);
      }
    }
    const suRow = (s) => {
      const cell = el("td", { "data-col": "actions" });
      if (manager && open && s.status === "SIGN_UP_STATUS_PENDING") {
        const reason = el("input", { name: "reject_reason", "data-testid": "reject-reason", placeholder: T("rejectReason"), "aria-label": T("rejectReason"), size: "14" });
        cell.append(el("button", { type: "button", "data-action": "approve", text: T("approveSignUp"), on: { click: () => decide(s, "approve") } }),
          " ", reason, " ", el("button", { type: "button", "data-action": "reject", text: T("rejectSignUp"), on: { click: () => decide(s, "reject", { reason: reason.value.trim() }) } }));
      }
      const here = present.has(s.volunteer_id);
      if (manager && running && s.status === "SIGN_UP_STATUS_CONFIRMED" && !here) {
        cell.append(el("button", { type: "button", "data-action": "check-in", text: T("checkInDirect"), on: { click: () => decide(s, "check-in", { volunteer_id: s.volunteer_id }) } }));
      }
      // WithdrawSignUp: any manager whose scope holds the project or the
      // volunteer, while the project is open and before the volunteer checks in.
      if (manager && open && ACTIVE_SIGN_UPS.includes(s.status) && !here) {
        cell.append(" ", el("button", { type: "button", "data-action": "withdraw", text: T("withdraw"), on: { click: () => {
          if (confirm(T("withdrawConfirm"))) decide(s, "withdraw");
        } } }));
      }
      return el("tr", { "data-id": s.id, "data-volunteer": s.volunteer_id, "data-number": s.volunteer_number, "data-status": s.status },
        el("td", { text: s.queue_number ? zy.num(s.queue_number) : "" }),
        zy.volunteerNames.cell(s.volunteer_id, s.volunteer_number, { "data-col": "volunteer_number" }),
        el("td", { "data-col": "status", text: T(s.status) }),
        el("td", { text: when(s.created_at) }), el("td", { "data-col": "reason", text: s.reason || "" }), cell);
    };
    async function loadSignUps() {
      try {
        const list = await allPages(`/sessions/${sid}/sign-ups`, "sign_ups");
        // Names beside the numbers: one lookup per volunteer not yet named.
        await zy.volunteerNames.load(list.map((s) => s.volunteer_id));
        if (!alive()) return;
        suBody.replaceChildren(...list.map(suRow));
        suTable.hidden = !list.length; suEmpty.hidden = !!list.length;
        suTable.dataset.loaded = String(Date.now());
      } catch (err) {
        if (alive() && err.status !== 401) showError(suError, err);
      }
    }

    // Attendance: check-out by the leader (CheckOut without a code, until 2 h
    // after the session) and the late close (CloseAttendance: at the time
    // service ended, between the check-in and the session's end, never in
    // the future). Both are the project's own managers' (the service answers
    // NOT_FOUND to anyone else). The service time is the check-in to the
    // check-out within the session (as the hours service counts it); the
    // credited hours are the hour record the hours worker makes of it.
    const present = new Set();
    const atError = el("p", { class: "error", "data-testid": "attendance-message" });
    const atNotice = el("p", { class: "notice", "data-testid": "attendance-notice" });
    const atBody = el("tbody");
    const atTable = el("table", { "data-testid": "attendance-table" },
      el("thead", {}, el("tr", {}, ["volunteerNumber", "checkedIn", "checkedOut", "closedBy", "duration", "credited", "actions"].map((h) => el("th", { text: T(h) })))), atBody);
    const atEmpty = el("p", { class: "empty", "data-testid": "attendance-empty", text: T("noneAttendance"), hidden: "" });
    const startMs = Date.parse(session.starts_at);
    const endMs = Date.parse(session.ends_at);
    const localSec = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 19);
    const served = (a) => Math.max(0, Math.floor((Math.min(Date.parse(a.checked_out_at), endMs) - Math.max(Date.parse(a.checked_in_at), startMs)) / 1000));
    const clock = (sec) => `${Math.floor(sec / 3600)}:${String(Math.floor(sec / 60) % 60).padStart(2, "0")}:${String(sec % 60).padStart(2, "0")}`;

    async function closeOut(a, verb, body) {
      clear(atError); clear(atNotice);
      try {
        await post(`/sessions/${sid}/${verb}`, { volunteer_id: a.volunteer_id, ...body });
        atNotice.textContent = `${T("done")}: ${a.volunteer_number} · ${T(verb === "close" ? "closeAttendance" : "checkOut")}`;
        atNotice.dataset.id = a.id;
        await loadAttendance();
      } catch (err) {
        if (err.status === 401) return;
        showError(atError, err);
        atError.dataset.id = a.id;
      }
    }
    const actionsFor = (a, typed) => {
      const cell = el("td", { "data-col": "actions" });
      if (!manager || a.checked_out_at) return cell;
      if (Date.now() <= endMs + 2 * 3600e3) {
        cell.append(el("button", { type: "button", "data-action": "check-out", text: T("checkOut"), on: { click: () => closeOut(a, "check-out") } }), " ");
      }
      // Default: now (to the next whole second, so never before a check-in
      // made this second) or the session's end, whichever is earlier.
      const latest = Math.min(Math.ceil(Date.now() / 1000) * 1000, endMs);
      const ended = el("input", { type: "datetime-local", step: "1", name: "ended_at", "data-field": "ended_at", "aria-label": T("closeAt"), title: T("closeHelp"),
        min: localSec(Date.parse(a.checked_in_at)), max: localSec(latest), value: localSec(latest) });
      if (typed) { ended.value = typed; ended.dataset.touched = "true"; }
      cell.append(ended, " ", el("button", { type: "button", "data-action": "close", title: T("closeHelp"), text: T("closeAttendance"), on: { click: () => {
        ended.removeAttribute("aria-invalid");
        closeOut(a, "close", { ended_at: rfc(ended.value) }).then(() => {
          if (atError.dataset.id === a.id && atError.dataset.field === "ended_at") ended.setAttribute("aria-invalid", "true");
        });
      } } }));
      ended.addEventListener("input", () => { ended.dataset.touched = "true"; });
      return cell;
    };

    // Credited hours: the hour record whose source is the attendance, looked
    // up per volunteer; the worker makes it a moment after the check-out, so
    // missing ones are asked for again a few times.
    const credits = new Map();
    const creditCells = new Map();
    let creditTries = 0;
    let creditTimer = 0;
    function showCredit(cell, rec) {
      if (!rec) {
        cell.dataset.pending = "true";
        cell.textContent = T("creditPending");
        return;
      }
      delete cell.dataset.pending;
      cell.dataset.record = rec.id;
      cell.dataset.hours = String(rec.hours);
      cell.dataset.recordStatus = rec.status;
      const reason = rec.status_reason ? T(`why_${rec.status_reason}`) : "";
      const why = rec.status === "RECORD_STATUS_REJECTED" && reason ? ` (${reason.startsWith("why_") ? rec.status_reason : reason})` : "";
      cell.textContent = `${zy.num(rec.hours)} · ${T(rec.status)}${why}`;
    }
    async function loadCredits() {
      const wanted = [...creditCells.keys()].filter((id) => !credits.has(id));
      const people = new Map();
      wanted.forEach((id) => people.set(creditCells.get(id).volunteer, true));
      for (const volunteer of people.keys()) {
        try {
          const data = await get(`/hours/records?volunteer_id=${enc(volunteer)}&page_size=100`);
          (data.records || []).filter((r) => r.source === "RECORD_SOURCE_ATTENDANCE").forEach((r) => credits.set(r.source_id, r));
        } catch (err) {
          if (err.status === 401 || err.status === 403) return; // no right to read hours: the column stays empty
        }
        if (!alive()) return;
      }
      let missing = 0;
      creditCells.forEach(({ cell }, id) => { showCredit(cell, credits.get(id)); if (!credits.has(id)) missing += 1; });
      clearTimeout(creditTimer);
      if (missing && creditTries < 20 && alive()) {
        creditTries += 1;
        creditTimer = setTimeout(() => { if (alive()) loadCredits(); }, 3000);
        timers.add(creditTimer);
      }
    }

    async function loadAttendance() {
      try {
        const list = await allPages(`/sessions/${sid}/attendances`, "attendances");
        if (!alive()) return;
        // A close time being typed survives the reload the code's timer makes.
        const typed = new Map([...atBody.querySelectorAll("input[name=ended_at][data-touched]")]
          .map((n) => [n.closest("tr").dataset.id, n.value]));
        present.clear();
        creditCells.clear();
        list.forEach((a) => present.add(a.volunteer_id));
        atBody.replaceChildren(...list.map((a) => {
          const out = !!a.checked_out_at;
          const credited = el("td", { "data-col": "credited" });
          if (out) {
            creditCells.set(a.id, { cell: credited, volunteer: a.volunteer_id });
            showCredit(credited, credits.get(a.id));
          }
          return el("tr", { "data-id": a.id, "data-volunteer": a.volunteer_id, "data-number": a.volunteer_number, "data-out": String(out) },
            el("td", { "data-col": "volunteer_number", text: a.volunteer_number }),
            el("td", { "data-col": "checked_in_at", text: when(a.checked_in_at, true) }),
            el("td", { "data-col": "checked_out_at", text: out ? when(a.checked_out_at, true) : T("notOut") }),
            el("td", { "data-col": "closed_by", text: a.closed_by ? T(`closed_${a.closed_by}`) : "" }),
            el("td", { "data-col": "duration", "data-seconds": out ? String(served(a)) : "", text: out ? clock(served(a)) : "" }),
            credited, actionsFor(a, typed.get(a.id)));
        }));
        atTable.hidden = !list.length; atEmpty.hidden = !!list.length;
        atTable.dataset.loaded = String(Date.now());
        creditTries = 0;
        if (creditCells.size) loadCredits();
      } catch (err) {
        if (alive() && err.status !== 401) showError(atError, err);
      }
    }

    // The rotating code: fetched again as soon as its window ends (the
    // service still accepts it for one more window, so the code on screen
    // never shows an expired code), with a countdown meanwhile. Beside the
    // digits, the same code as a QR code (drawn by the service) that a
    // volunteer's phone camera opens as the check-in page, code filled in.
    const codeBox = el("div", { "data-testid": "checkin-code", class: "centred" });
    const codeError = el("p", { class: "error", "data-testid": "checkin-message" });
    let qrUrl = "";
    async function loadQr() {
      try {
        const r = await zy.api(`/sessions/${sid}/code.svg`);
        const url = URL.createObjectURL(await r.blob());
        if (!alive()) { URL.revokeObjectURL(url); return null; }
        if (qrUrl) URL.revokeObjectURL(qrUrl);
        qrUrl = url;
        return el("figure", { class: "checkin-qr" },
          el("img", { src: url, alt: T("qrAlt"), "data-testid": "checkin-qr" }),
          el("figcaption", { class: "hint", text: T("qrHelp") }));
      } catch (err) {
        if (alive() && err.status !== 401) showError(codeError, err);
        return null;
      }
    }
    async function loadCode() {
      if (!alive()) return;
      try {
        const [c, qr] = await Promise.all([get(`/sessions/${sid}/check-in-code`), loadQr()]);
        if (!alive()) return;
        const until = Date.parse(c.valid_until);
        const countdown = el("span", { "data-testid": "checkin-countdown" });
        const tick = () => { countdown.textContent = `${zy.num(Math.max(0, Math.ceil((until - Date.now()) / 1000)))} ${T("refreshIn")}`; };
        tick();
        if (qr) clear(codeError);
        codeBox.dataset.code = c.code;
        codeBox.dataset.validUntil = c.valid_until;
        codeBox.dataset.loaded = String(Date.now());
        codeBox.replaceChildren(
          el("div", { "data-testid": "checkin-code-value", "aria-label": T("checkInCode"), class: "checkin-code", text: c.code }),
          el("div", { "data-testid": "checkin-expiry", text: `${T("validUntil")} ${when(c.valid_until, true)}` }),
          el("div", { class: "hint" }, countdown), qr || "");
        const ticker = setInterval(() => (alive() && countdown.isConnected ? tick() : clearInterval(ticker)), 1000);
        timers.add(ticker);
        const windowMs = (Number(c.window_seconds) || 60) * 1000;
        const delay = Math.min(Math.max(until - Date.now() + 300, 1000), windowMs + 300);
        // When the next code is fetched (epoch ms), kept for the record.
        codeBox.dataset.refreshAt = String(Date.now() + delay);
        timers.add(setTimeout(() => { clearInterval(ticker); timers.delete(ticker); loadCode(); loadAttendance(); }, delay));
      } catch (err) {
        if (!alive() || err.status === 401) return;
        showError(codeError, err);
        timers.add(setTimeout(loadCode, 10000));
      }
    }

    const codeSection = running && manager
      ? el("div", {}, el("h4", { class: "tight", text: T("checkInCode") }), codeBox, codeError)
      : el("p", { class: "empty compact", "data-testid": "checkin-hidden", "data-why": codeWhy(project.status, manager),
        text: T(codeWhy(project.status, manager)) });
    const panel = el("section", { class: "card spaced", "data-testid": "session-panel", "data-id": session.id },
      el("h3", { text: `${T("selected")} #${index + 1}: ${when(session.starts_at)} – ${when(session.ends_at)}` }),
      el("div", { class: "session-grid" },
        el("div", { class: "scroll-x" },
          el("h4", { class: "tight", text: T("signUps") }), suError, suNotice, suTable, suEmpty),
        codeSection),
      // Full width: the attendance rows carry the check-out and close tools.
      el("div", { class: "scroll-x" },
        el("h4", { class: "subhead-gap", text: T("attendance") }),
        el("div", { class: "tools" }, el("button", { type: "button", "data-testid": "attendance-refresh", text: T("refresh"), on: { click: loadAttendance } })),
        manager ? el("p", { class: "hint", "data-testid": "close-help", text: T("closeHelp") }) : "",
        atError, atNotice, atTable, atEmpty));
    // Sign-ups after attendance: who is present decides their buttons.
    loadAttendance().then(loadSignUps);
    if (running && manager) loadCode();
    return panel;
  }

  kit.sessionPanel = sessionPanel;
})();
