// Projects page (#/projects, #/projects/<id>[?session=<id>]): the projects of
// the user's scope with a status filter and paging, a new project with its
// sessions, the review queue of projects awaiting the caller's approval, and
// a project's detail: its lifecycle (submit → approve | return → publish →
// start → complete, or cancel), its sessions, each session's sign-ups with
// approve/reject, the rotating check-in code and the attendance list.
//
// Review rule (services/activity): a reviewer, county/city (tenant) admin or
// provincial admin whose scope holds the project may approve it, never the
// account that published it; so a county's own project is approved by
// another reviewer of the county or by a level above.
"use strict";

(() => {
  const zy = window.zy;
  const { el } = zy;
  const GRID = "display:flex;flex-wrap:wrap;gap:10px 16px;margin:8px 0";
  const LABEL = "display:grid;gap:2px;font-size:12px;color:#555";
  const CODE_STYLE = "font:700 64px/1.1 ui-monospace,Menlo,Consolas,monospace;letter-spacing:12px;color:#b3241b;margin:8px 0";
  const BADGE = "display:inline-block;padding:0 8px;border-radius:10px;background:#fdf1ef;color:#b3241b;font-size:12px";

  const STATUSES = ["DRAFT", "SUBMITTED", "APPROVED", "RETURNED", "RECRUITING", "IN_PROGRESS", "COMPLETED", "CANCELLED"]
    .map((s) => `PROJECT_STATUS_${s}`);
  // services/common/roles.py
  const MANAGERS = ["operator", "province_admin", "tenant_admin", "org_leader"];
  const REVIEWERS = ["reviewer", "tenant_admin", "province_admin"];

  const prefixed = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`pj.${k}`, v]));
  zy.text(...[{
    projects: "志愿项目", listTitle: "本辖区项目", status: "状态", allStatuses: "全部状态",
    title: "项目名称", organisation: "发布组织", division: "区划", field: "服务领域", kind: "类型",
    sessions: "活动场次", firstSession: "首场时间", publisher: "发布人", createdAt: "创建时间",
    actions: "操作", open: "查看", next: "下一页", first: "第一页", total: "共", items: "个项目",
    empty: "暂无项目", reviewQueue: "待我审核的项目",
    reviewHelp: "本人发布的项目须由其他有审核权限的账号（本级审核员或上级管理员）审核。",
    noneReview: "没有待您审核的项目", approve: "审核通过", return: "退回修改", returnReason: "退回意见",
    create: "新建项目", description: "项目简介", place: "服务地点", recruitStarts: "招募开始",
    recruitEnds: "招募截止", minAge: "最低年龄（0 为不限）", requiredSkills: "报名须具备的服务领域（可不选）",
    leaderApproval: "报名需负责人审批", emergency: "应急招募（仅省、市级；报名无需审批）",
    sessionStart: "开始时间", sessionEnd: "结束时间", capacity: "名额", addSession: "添加场次",
    removeSession: "删除", save: "保存为草稿", createdOk: "项目草稿已创建", openIt: "打开项目",
    submit: "提交审核", publish: "发布招募", start: "开始活动", complete: "结项", cancel: "取消项目",
    cancelReason: "取消原因", done: "操作成功", back: "返回项目列表",
    notFound: "未找到该项目，或该项目不在您的管辖范围内。", notFoundTitle: "项目不存在",
    comment: "审核意见", publishedAt: "发布时间", recruitWindow: "招募时间", eligibility: "报名条件",
    noMinAge: "不限年龄", ageFrom: "周岁以上", yes: "是", no: "否", timesNote: "时间均为北京时间（UTC+8）",
    signUps: "报名名单", volunteerNumber: "志愿者编号", queue: "序号", signedAt: "报名时间", reason: "原因",
    approveSignUp: "通过", rejectSignUp: "拒绝", rejectReason: "拒绝原因", noneSignUps: "暂无报名",
    checkInDirect: "代为签到", checkInCode: "签到码", validUntil: "本码有效至", refreshIn: "秒后自动更新",
    codeHidden: "项目开始（进行中）后显示签到码", attendance: "签到记录", checkedIn: "签到时间",
    checkedOut: "签退时间", closedBy: "签退方式", noneAttendance: "暂无签到", refresh: "刷新",
    manage: "管理", confirmed: "已确认", waitlisted: "候补", selected: "当前场次", session: "场次",
    closed_volunteer: "本人凭码", closed_leader: "负责人", notOut: "未签退", pager: "翻页",
    PROJECT_STATUS_DRAFT: "草稿", PROJECT_STATUS_SUBMITTED: "待审核", PROJECT_STATUS_APPROVED: "已通过",
    PROJECT_STATUS_RETURNED: "已退回", PROJECT_STATUS_RECRUITING: "招募中", PROJECT_STATUS_IN_PROGRESS: "进行中",
    PROJECT_STATUS_COMPLETED: "已结项", PROJECT_STATUS_CANCELLED: "已取消",
    PROJECT_KIND_SERVICE: "志愿服务", PROJECT_KIND_DONATION: "捐赠（不计时长）",
    SIGN_UP_STATUS_PENDING: "待审批", SIGN_UP_STATUS_CONFIRMED: "已确认", SIGN_UP_STATUS_WAITLISTED: "候补",
    SIGN_UP_STATUS_WITHDRAWN: "已取消", SIGN_UP_STATUS_REJECTED: "已拒绝",
    edit: "修改项目", editHelp: "草稿或被退回的项目可以修改；保存后再提交审核。场次整体替换，所属组织不能更改。",
    saveEdit: "保存修改", savedOk: "修改已保存", returnedComment: "退回意见",
    duration: "服务时长（按场次时段）", credited: "计入时长（小时）", creditPending: "待计入…", checkOut: "代为签退",
    closeAt: "补签退时间", closeAttendance: "补签退",
    closeHelp: "补签退：按志愿者实际结束服务的时间签退，须在签到之后、场次结束之前且不晚于当前时间；凭码或代为签退须在场次结束后 2 小时内。",
    withdraw: "代为取消报名", withdrawConfirm: "确认代该志愿者取消报名？空出的名额将依次让给候补的志愿者。",
    RECORD_STATUS_PENDING: "待审核", RECORD_STATUS_APPROVED: "已通过", RECORD_STATUS_REJECTED: "未计入",
    RECORD_STATUS_REVERSED: "已冲销", why_overlap: "与已有时长重叠", why_excluded_kind: "该类型不计时长",
    why_daily_cap: "超出每日上限", why_no_service_time: "不在场次时段内或时长过短",
  }, {
    projects: "Projects", listTitle: "Projects in my scope", status: "Status", allStatuses: "All statuses",
    title: "Title", organisation: "Organisation", division: "Division", field: "Service field", kind: "Kind",
    sessions: "Sessions", firstSession: "First session", publisher: "Publisher", createdAt: "Created",
    actions: "Actions", open: "Open", next: "Next page", first: "First page", total: "Total", items: "projects",
    empty: "No projects yet", reviewQueue: "Projects awaiting my review",
    reviewHelp: "A project is reviewed by another account with review rights (a reviewer of the same level or an admin above), never by its publisher.",
    noneReview: "No project awaits your review", approve: "Approve", return: "Return", returnReason: "Comment for the publisher",
    create: "New project", description: "Description", place: "Place", recruitStarts: "Recruiting from",
    recruitEnds: "Recruiting until", minAge: "Minimum age (0: none)", requiredSkills: "Service fields volunteers must have (optional)",
    leaderApproval: "Sign-ups need the leader's approval", emergency: "Emergency campaign (province or city only; no approval)",
    sessionStart: "Starts", sessionEnd: "Ends", capacity: "Places", addSession: "Add a session",
    removeSession: "Remove", save: "Save as draft", createdOk: "Draft project created", openIt: "Open the project",
    submit: "Submit for review", publish: "Publish (start recruiting)", start: "Start", complete: "Complete", cancel: "Cancel the project",
    cancelReason: "Reason for cancelling", done: "Done", back: "Back to the projects",
    notFound: "This project does not exist or lies outside your jurisdiction.", notFoundTitle: "Project not found",
    comment: "Reviewer's comment", publishedAt: "Published", recruitWindow: "Recruiting", eligibility: "Eligibility",
    noMinAge: "Any age", ageFrom: "years or older", yes: "Yes", no: "No", timesNote: "Times are Beijing time (UTC+8)",
    signUps: "Sign-ups", volunteerNumber: "Volunteer no.", queue: "No.", signedAt: "Signed up", reason: "Reason",
    approveSignUp: "Approve", rejectSignUp: "Reject", rejectReason: "Why is it rejected?", noneSignUps: "No sign-ups yet",
    checkInDirect: "Check in", checkInCode: "Check-in code", validUntil: "Valid until", refreshIn: "s until the next code",
    codeHidden: "The code is shown once the project has started (in progress)", attendance: "Attendance", checkedIn: "Checked in",
    checkedOut: "Checked out", closedBy: "Closed by", noneAttendance: "Nobody has checked in yet", refresh: "Refresh",
    manage: "Manage", confirmed: "Confirmed", waitlisted: "Waitlisted", selected: "Selected session", session: "Session",
    closed_volunteer: "Volunteer (code)", closed_leader: "Leader", notOut: "Not checked out", pager: "Paging",
    PROJECT_STATUS_DRAFT: "Draft", PROJECT_STATUS_SUBMITTED: "Awaiting review", PROJECT_STATUS_APPROVED: "Approved",
    PROJECT_STATUS_RETURNED: "Returned", PROJECT_STATUS_RECRUITING: "Recruiting", PROJECT_STATUS_IN_PROGRESS: "In progress",
    PROJECT_STATUS_COMPLETED: "Completed", PROJECT_STATUS_CANCELLED: "Cancelled",
    PROJECT_KIND_SERVICE: "Volunteer service", PROJECT_KIND_DONATION: "Donation (no hours)",
    SIGN_UP_STATUS_PENDING: "Pending", SIGN_UP_STATUS_CONFIRMED: "Confirmed", SIGN_UP_STATUS_WAITLISTED: "Waitlisted",
    SIGN_UP_STATUS_WITHDRAWN: "Withdrawn", SIGN_UP_STATUS_REJECTED: "Rejected",
    edit: "Edit the project", editHelp: "Drafts and returned projects can be edited; submit again after saving. Sessions are replaced as a whole; the organisation cannot change.",
    saveEdit: "Save changes", savedOk: "Changes saved", returnedComment: "Returned with the comment",
    duration: "Service time (within the session)", credited: "Credited hours", creditPending: "Being credited…", checkOut: "Check out",
    closeAt: "Service ended at", closeAttendance: "Close attendance",
    closeHelp: "Close attendance: check out at the time the volunteer actually stopped, after the check-in, by the session's end and not in the future; a check-out (by code or by the leader) is possible until 2 hours after the session.",
    withdraw: "Withdraw for the volunteer", withdrawConfirm: "Withdraw this volunteer's sign-up? A freed place goes to the waitlist in order.",
    RECORD_STATUS_PENDING: "Pending review", RECORD_STATUS_APPROVED: "Approved", RECORD_STATUS_REJECTED: "Not credited",
    RECORD_STATUS_REVERSED: "Reversed", why_overlap: "overlaps recorded hours", why_excluded_kind: "kind not counted",
    why_daily_cap: "over the daily cap", why_no_service_time: "outside the session, or too short",
  }].map(prefixed));

  const T = (k) => { const v = zy.t(`pj.${k}`); return v === `pj.${k}` ? zy.t(k) : v; };
  const isZh = () => zy.lang() === "zh";
  const enc = encodeURIComponent;
  const { get, post, showError, allPages } = zy; // showError: "field: message", field and rule as data
  const ACTIVE_SIGN_UPS = ["SIGN_UP_STATUS_PENDING", "SIGN_UP_STATUS_CONFIRMED", "SIGN_UP_STATUS_WAITLISTED"];
  const hasAny = (me, roles) => (me.roles || []).some((r) => roles.includes(r));

  // Dates and times in Beijing time, in the current language.
  const when = (v, seconds = false) => (v ? new Intl.DateTimeFormat(zy.locale(), {
    dateStyle: "medium", timeStyle: seconds ? "medium" : "short", timeZone: "Asia/Shanghai",
  }).format(new Date(v)) : "");
  // A datetime-local value (Beijing wall time) as RFC 3339 with its offset;
  // China keeps no daylight saving time, so the offset is always +08:00.
  const rfc = (v) => (v ? `${v.length === 16 ? `${v}:00` : v}+08:00` : "");
  const local = (ms) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 16);

  // Service fields come from the API (GET /service-fields), fetched once.
  let fieldsCache = null;
  async function serviceFields() {
    fieldsCache = await zy.serviceFields();
    return fieldsCache;
  }
  const fieldName = zy.fieldName;

  function clear(node) { node.textContent = ""; node.dataset.field = ""; node.dataset.rule = ""; delete node.dataset.id; }


  // One render at a time: a newer render (or leaving the page) stops the
  // older one's timers and keeps its late answers off the screen.
  let generation = 0;
  const timers = new Set();
  function newRender() {
    generation += 1;
    timers.forEach((id) => { clearTimeout(id); clearInterval(id); });
    timers.clear();
    return generation;
  }
  // A message for the next render (after an action re-renders the page).
  let flash = "";
  const takeFlash = () => { const f = flash; flash = ""; return f; };

  async function loadMe() { return get("/me"); }

  function failPage(err) {
    if (err.status === 403) return zy.renderDenied();
    if (err.status === 401) return undefined;
    const p = el("p", { class: "error", "data-testid": "projects-failed" });
    showError(p, err);
    zy.view().replaceChildren(el("section", { class: "card" }, p));
    return undefined;
  }

  // -- the list, the review queue and the create form -------------------------------
  async function renderList(params) {
    const gen = newRender();
    const view = zy.view();
    view.replaceChildren(el("p", { text: zy.t("loading") }));
    let me;
    try {
      me = await loadMe();
      await serviceFields();
    } catch (err) {
      if (gen === generation) failPage(err);
      return undefined;
    }
    if (gen !== generation) return undefined;
    const state = { status: STATUSES.includes(params.get("status")) ? params.get("status") : "", tokens: [""] };

    const message = el("p", { class: "error", "data-testid": "projects-message" });
    const notice = el("p", { class: "notice", "data-testid": "projects-notice", text: takeFlash() });
    const summary = el("span", { "data-testid": "projects-total" });
    const body = el("tbody");
    const table = el("table", { "data-testid": "projects-table" },
      el("thead", {}, el("tr", {}, ["title", "organisation", "division", "field", "firstSession", "sessions", "status", "actions"]
        .map((h) => el("th", { text: T(h) })))), body);
    const empty = el("p", { class: "empty", "data-testid": "projects-empty", text: T("empty"), hidden: "" });
    const filter = el("select", { "data-testid": "projects-status", "aria-label": T("status"), on: { change: () => {
      state.status = filter.value; state.tokens = [""]; load();
    } } }, el("option", { value: "", text: T("allStatuses") }), STATUSES.map((s) => el("option", { value: s, text: T(s) })));
    filter.value = state.status;
    const first = el("button", { type: "button", "data-testid": "projects-first", text: T("first"), on: { click: () => {
      state.tokens = [""]; load();
    } } });
    const next = el("button", { type: "button", "data-testid": "projects-next", text: T("next"), on: { click: () => {
      if (next.dataset.token) { state.tokens.push(next.dataset.token); load(); }
    } } });

    const row = (p) => el("tr", { "data-id": p.id, "data-status": p.status },
      el("td", { "data-col": "title" }, el("a", { href: `#/projects/${enc(p.id)}`, text: p.title })),
      el("td", { "data-col": "organisation", text: p.organisation_name }),
      el("td", { "data-col": "division", text: p.division_code }),
      el("td", { "data-col": "field", text: fieldName(p.service_field) }),
      el("td", { "data-col": "first_session", text: when(p.sessions?.[0]?.starts_at) }),
      el("td", { "data-col": "sessions", text: zy.num((p.sessions || []).length) }),
      el("td", { "data-col": "status" }, el("span", { style: BADGE, text: T(p.status) })),
      el("td", { "data-col": "actions" }, el("a", { href: `#/projects/${enc(p.id)}`, "data-action": "open", text: T("open") })));

    async function load() {
      const query = new URLSearchParams({ page_size: "20", page_token: state.tokens[state.tokens.length - 1] });
      if (state.status) query.set("status", state.status);
      try {
        const data = await get(`/projects?${query}`);
        if (gen !== generation) return;
        const list = data.projects || [];
        body.replaceChildren(...list.map(row));
        table.hidden = !list.length; empty.hidden = !!list.length;
        next.dataset.token = data.page?.next_page_token || "";
        next.disabled = !next.dataset.token;
        first.disabled = state.tokens.length === 1;
        const total = Number(data.page?.total_size || 0);
        summary.textContent = `${T("total")} ${zy.num(total)} ${T("items")}`;
        summary.dataset.total = String(total);
        table.dataset.loaded = String(Date.now());
      } catch (err) {
        if (gen !== generation) return;
        if (err.status === 403) zy.renderDenied();
        else if (err.status !== 401) showError(message, err);
      }
    }

    // Review queue: submitted projects in scope that someone else published.
    const reviewer = hasAny(me, REVIEWERS);
    const queueBody = el("tbody");
    const queueError = el("p", { class: "error", "data-testid": "review-message" });
    const queueTable = el("table", { "data-testid": "review-queue" },
      el("thead", {}, el("tr", {}, ["title", "organisation", "division", "publisher", "firstSession", "actions"]
        .map((h) => el("th", { text: T(h) })))), queueBody);
    const queueEmpty = el("p", { class: "empty", "data-testid": "review-empty", text: T("noneReview"), hidden: "" });
    async function review(p, verb, reason) {
      clear(queueError); clear(notice);
      try {
        await post(`/projects/${enc(p.id)}/${verb}`, verb === "return" ? { reason } : {});
        notice.textContent = `${T("done")}: ${p.title} · ${T(verb === "return" ? "PROJECT_STATUS_RETURNED" : "PROJECT_STATUS_APPROVED")}`;
        notice.dataset.id = p.id;
        await Promise.all([loadQueue(), load()]);
      } catch (err) {
        if (err.status !== 401) showError(queueError, err);
      }
    }
    const queueRow = (p) => {
      const reason = el("input", { name: "return_reason", "data-testid": "return-reason", placeholder: T("returnReason"), "aria-label": T("returnReason"), size: "18" });
      return el("tr", { "data-id": p.id },
        el("td", { "data-col": "title" }, el("a", { href: `#/projects/${enc(p.id)}`, text: p.title })),
        el("td", { text: p.organisation_name }), el("td", { text: p.division_code }),
        el("td", { "data-col": "publisher", text: p.publisher }),
        el("td", { text: when(p.sessions?.[0]?.starts_at) }),
        el("td", { "data-col": "actions" },
          el("button", { type: "button", "data-action": "approve", text: T("approve"), on: { click: () => review(p, "approve") } }),
          " ", reason, " ",
          el("button", { type: "button", "data-action": "return", text: T("return"), on: { click: () => review(p, "return", reason.value.trim()) } })));
    };
    async function loadQueue() {
      if (!reviewer) return;
      try {
        const list = (await allPages("/projects?status=PROJECT_STATUS_SUBMITTED", "projects"))
          .filter((p) => p.publisher !== me.username);
        if (gen !== generation) return;
        queueBody.replaceChildren(...list.map(queueRow));
        queueTable.hidden = !list.length; queueEmpty.hidden = !!list.length;
        queueTable.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.status !== 401 && gen === generation) showError(queueError, err);
      }
    }

    const sections = [
      el("section", { class: "card", "data-testid": "projects-list" }, el("h2", { text: T("listTitle") }),
        el("div", { class: "tools" }, filter, summary),
        message, notice, table, empty, el("div", { class: "tools", "aria-label": T("pager") }, first, next)),
    ];
    if (reviewer) {
      sections.push(el("section", { class: "card", style: "margin-top:12px", "data-testid": "review-section" },
        el("h3", { text: T("reviewQueue") }), el("p", { style: "color:#666;font-size:12px", text: T("reviewHelp") }),
        queueError, queueTable, queueEmpty));
    }
    if (hasAny(me, MANAGERS)) {
      sections.push(await createForm(me, gen, notice, load));
      if (gen !== generation) return undefined;
    }
    view.replaceChildren(...sections);
    await Promise.all([load(), loadQueue()]);
    return undefined;
  }

  // The editable fields of a project, shared by the create and the edit form
  // (UpdateProject takes the same fields as CreateProject, less the
  // organisation). ``v`` is a project to prefill from, or null for defaults.
  // A prefilled time left untouched is sent back exactly as it was stored.
  function projectFields(v, { lead = [], emergency = false } = {}) {
    const fields = fieldsCache || [];
    const label = (text, node) => el("label", { style: LABEL }, el("span", { text }), node);
    const input = (name, attrs = {}) => el("input", { name, "data-field": name, "data-testid": `pj-${name.replace(/_/g, "-")}`, autocomplete: "off", ...attrs });
    const time = (name, iso, attrs = {}) => {
      const node = input(name, { type: "datetime-local", ...attrs });
      if (iso) { node.value = local(Date.parse(iso)); node.dataset.orig = iso; node.dataset.origLocal = node.value; }
      return node;
    };
    const read = (node) => (node.dataset.orig && node.value === node.dataset.origLocal ? node.dataset.orig : rfc(node.value.trim()));

    const field = el("select", { name: "service_field", "data-field": "service_field", "data-testid": "pj-service-field" },
      el("option", { value: "", text: "—" }), fields.map((f) => el("option", { value: f.code, text: isZh() ? f.name_zh : f.name_en })));
    const kind = el("select", { name: "kind", "data-field": "kind", "data-testid": "pj-kind" },
      ["PROJECT_KIND_SERVICE", "PROJECT_KIND_DONATION"].map((k) => el("option", { value: k, text: T(k) })));
    const chosen = new Set(v?.eligibility?.required_skills || []);
    const skills = el("fieldset", { "data-testid": "pj-required-skills", "data-field": "eligibility.required_skills", style: "display:flex;flex-wrap:wrap;gap:4px 14px;border:1px solid #eee" },
      el("legend", { text: T("requiredSkills") }),
      fields.map((f) => {
        const box = el("input", { type: "checkbox", name: "required_skills", value: f.code });
        box.checked = chosen.has(f.code);
        return el("label", {}, box, isZh() ? f.name_zh : f.name_en);
      }));

    const sessionList = el("div", { "data-testid": "pj-sessions" });
    const renumber = () => [...sessionList.children].forEach((r, i) => {
      r.dataset.index = String(i);
      r.querySelector("[name=session_starts_at]").dataset.field = `sessions[${i}].starts_at`;
      r.querySelector("[name=session_ends_at]").dataset.field = `sessions[${i}].ends_at`;
      r.querySelector("[name=session_capacity]").dataset.field = `sessions[${i}].capacity`;
    });
    const addSession = (start, end, capacity = "10") => {
      // A stored time (with its offset) or a Beijing wall time.
      const stamp = (name, value) => {
        const stored = /(Z|[+-]\d\d:\d\d)$/.test(value || "");
        const node = time(name, stored ? value : "");
        node.removeAttribute("data-testid");
        if (!stored) node.value = value || "";
        return node;
      };
      const r = el("div", { class: "session-row", "data-testid": "pj-session", style: GRID },
        label(T("sessionStart"), stamp("session_starts_at", start)),
        label(T("sessionEnd"), stamp("session_ends_at", end)),
        label(T("capacity"), el("input", { type: "number", min: "1", name: "session_capacity", value: String(capacity), style: "width:90px" })),
        el("button", { type: "button", "data-action": "remove-session", style: "align-self:end", text: T("removeSession"), on: { click: () => {
          if (sessionList.children.length > 1) { r.remove(); renumber(); }
        } } }));
      sessionList.append(r); renumber();
    };
    // Defaults: one session tomorrow 09:00–11:00, recruiting from now until it starts.
    const tomorrow = local(Date.now() + 86400e3).slice(0, 10);
    if (v?.sessions?.length) v.sessions.forEach((x) => addSession(x.starts_at, x.ends_at, x.capacity));
    else addSession(`${tomorrow}T09:00`, `${tomorrow}T11:00`);
    const addButton = el("button", { type: "button", "data-testid": "pj-add-session", text: T("addSession"), on: { click: () => {
      const last = sessionList.lastElementChild;
      addSession("", "", last?.querySelector("[name=session_capacity]").value || "10");
    } } });

    const title = input("title", { maxlength: "100", size: "30", value: v?.title || "" });
    const place = input("place", { maxlength: "200", size: "30", value: v?.place || "" });
    const description = el("textarea", { name: "description", "data-field": "description", "data-testid": "pj-description", rows: "2", maxlength: "2000", style: "width:100%" });
    description.value = v?.description || "";
    field.value = v?.service_field || "";
    kind.value = v?.kind || "PROJECT_KIND_SERVICE";
    const recruitStarts = v ? time("recruit_starts_at", v.recruit_starts_at) : input("recruit_starts_at", { type: "datetime-local", value: local(Date.now()) });
    const recruitEnds = v ? time("recruit_ends_at", v.recruit_ends_at) : input("recruit_ends_at", { type: "datetime-local", value: `${tomorrow}T09:00` });
    const minAge = input("min_age", { type: "number", min: "0", max: "100", value: String(v?.eligibility?.min_age || 0), "data-field": "eligibility.min_age", style: "width:90px" });
    const approval = input("leader_approval", { type: "checkbox" });
    approval.checked = !!v?.leader_approval;
    const urgent = emergency || v?.emergency ? input("emergency", { type: "checkbox" }) : null;
    if (urgent) urgent.checked = !!v?.emergency;

    const nodes = [
      el("div", { style: GRID }, lead, label(T("title"), title), label(T("place"), place), label(T("field"), field), label(T("kind"), kind)),
      label(T("description"), description),
      el("div", { style: GRID },
        label(T("recruitStarts"), recruitStarts), label(T("recruitEnds"), recruitEnds), label(T("minAge"), minAge),
        el("label", { style: "align-self:end" }, approval, ` ${T("leaderApproval")}`),
        urgent ? el("label", { style: "align-self:end" }, urgent, ` ${T("emergency")}`) : ""),
      skills,
      el("h4", { style: "margin:10px 0 0", text: `${T("sessions")}（${T("timesNote")}）` }),
      sessionList,
    ];
    const payload = () => ({
      title: title.value.trim(), description: description.value.trim(), place: place.value.trim(),
      service_field: field.value, kind: kind.value,
      sessions: [...sessionList.children].map((r) => ({
        starts_at: read(r.querySelector("[name=session_starts_at]")),
        ends_at: read(r.querySelector("[name=session_ends_at]")),
        capacity: Number(r.querySelector("[name=session_capacity]").value) || 0,
      })),
      recruit_starts_at: read(recruitStarts), recruit_ends_at: read(recruitEnds),
      eligibility: {
        min_age: Number(minAge.value.trim()) || 0,
        required_skills: [...skills.querySelectorAll("input:checked")].map((c) => c.value),
      },
      leader_approval: approval.checked,
      emergency: !!urgent?.checked,
    });
    return { nodes, addButton, payload, title };
  }

  // A refused save: "field: message" above the form, the field marked.
  function formFailed(form, node, err) {
    showError(node, err);
    const name = err.body?.error?.field;
    const bad = name && form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus?.(); }
  }
  function formReset(form, node, notice) {
    clear(node); if (notice) clear(notice);
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }

  async function createForm(me, gen, notice, reload) {
    let orgs = [];
    try { orgs = await allPages("/organisations", "organisations"); } catch (err) { orgs = []; }
    const kindOf = (o) => String(o.kind || "").replace("ORGANISATION_KIND_", "").toLowerCase();
    orgs.sort((a, b) => (a.division_code.length - b.division_code.length)
      || (kindOf(a) === kindOf(b) ? 0 : kindOf(a) === "organisation" ? -1 : 1) || a.name.localeCompare(b.name, "zh"));
    const formError = el("p", { class: "error", "data-testid": "project-form-error" });
    const org = el("select", { name: "organisation_id", "data-field": "organisation_id", "data-testid": "pj-organisation" },
      orgs.map((o) => el("option", { value: o.id, text: `${o.name} (${o.division_code})` })));
    const editor = projectFields(null, {
      lead: el("label", { style: LABEL }, el("span", { text: T("organisation") }), org),
      emergency: me.scope_code.length <= 4,
    });
    const submit = el("button", { type: "submit", "data-testid": "pj-submit", text: T("save") });
    const form = el("form", { class: "card form", style: "margin-top:12px", novalidate: "", "data-testid": "project-form", on: { submit: async (e) => {
      e.preventDefault();
      formReset(form, formError, notice);
      submit.disabled = true;
      try {
        const r = await zy.api("/projects", { method: "POST", headers: { "content-type": "application/json" },
          body: JSON.stringify({ organisation_id: org.value, ...editor.payload() }) });
        const p = (await r.json()).project;
        notice.replaceChildren(`${T("createdOk")}: ${p.title} `, el("a", { href: `#/projects/${enc(p.id)}`, "data-testid": "pj-created-link", text: T("openIt") }));
        notice.dataset.id = p.id;
        editor.title.value = "";
        await reload();
      } catch (err) {
        if (err.status !== 401) formFailed(form, formError, err);
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("create") }), editor.nodes, el("div", { class: "tools" }, editor.addButton, submit), formError);
    return form;
  }

  // Editing a draft or a returned project (UpdateProject, PUT /projects/{id}):
  // every field but the organisation, sessions replaced whole; the reviewer's
  // comment on a returned project is shown above the form.
  function editForm(project, again) {
    const formError = el("p", { class: "error", "data-testid": "project-edit-error" });
    const editor = projectFields(project, {
      lead: el("label", { style: LABEL }, el("span", { text: T("organisation") }),
        el("span", { style: "padding:4px 0;color:#222", "data-testid": "pj-edit-organisation", text: `${project.organisation_name} (${project.division_code})` })),
      emergency: project.division_code.length <= 4,
    });
    const save = el("button", { type: "submit", "data-testid": "pj-edit-save", text: T("saveEdit") });
    const comment = project.status === "PROJECT_STATUS_RETURNED" && project.comment
      ? el("div", { "data-testid": "edit-comment", style: "border-left:4px solid #b3241b;background:#fdf1ef;padding:8px 12px;margin:6px 0" },
        el("strong", { text: `${T("returnedComment")}${isZh() ? "：" : ": "}` }), el("span", { "data-col": "comment", text: project.comment }))
      : "";
    const form = el("form", { class: "card form", style: "margin-top:12px", novalidate: "", "data-testid": "project-edit-form", "data-id": project.id, on: { submit: async (e) => {
      e.preventDefault();
      formReset(form, formError);
      save.disabled = true;
      try {
        const r = await zy.api(`/projects/${enc(project.id)}`, { method: "PUT", headers: { "content-type": "application/json" },
          body: JSON.stringify(editor.payload()) });
        const p = (await r.json()).project;
        again(`${T("savedOk")}: ${p.title}`);
      } catch (err) {
        if (err.status !== 401) formFailed(form, formError, err);
        save.disabled = false;
      }
    } } },
    el("h3", { text: T("edit") }), comment,
    el("p", { style: "color:#666;font-size:12px;margin:2px 0", text: T("editHelp") }),
    editor.nodes, el("div", { class: "tools" }, editor.addButton, save), formError);
    return form;
  }

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
      if (gen !== generation) return undefined;
      if (err.status === 404) {
        view.replaceChildren(el("section", { class: "card denied", "data-testid": "project-not-found" },
          el("h1", { text: "404" }), el("h2", { text: T("notFoundTitle") }), el("p", { text: T("notFound") }),
          el("a", { href: "#/projects", text: T("back") })));
        return undefined;
      }
      return failPage(err);
    }
    if (gen !== generation) return undefined;
    const message = el("p", { class: "error", "data-testid": "project-message" });
    const notice = el("p", { class: "notice", "data-testid": "project-notice", text: takeFlash() });
    const status = project.status;
    const manager = hasAny(me, MANAGERS);
    const reviewer = hasAny(me, REVIEWERS) && project.publisher !== me.username;
    const again = (text) => { flash = text; zy.go(location.hash); };

    async function act(verb, body) {
      clear(message); clear(notice);
      try {
        const p = (await post(`/projects/${enc(project.id)}/${verb}`, body)).project;
        again(`${T("done")}: ${T(p.status)}`);
      } catch (err) {
        if (err.status !== 401) showError(message, err);
      }
    }
    const button = (verb, text, onClick) => el("button", { type: "button", "data-action": verb, text, on: { click: onClick || (() => act(verb)) } });
    const actions = el("div", { class: "tools", "data-testid": "project-actions", style: "flex-wrap:wrap;align-items:center" });
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

    const el2 = (k, v, col) => [el("dt", { style: "color:#666", text: T(k) }), el("dd", { style: "margin:0", "data-col": col || k, text: v })];
    const elig = project.eligibility || {};
    const details = el("dl", { style: "display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:8px 0" },
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
      el("tbody", {}, sessions.map((x, i) => el("tr", { "data-id": x.id, "data-selected": String(x === chosen), style: x === chosen ? "background:#fdf1ef" : "" },
        el("td", { text: `#${i + 1}` }), el("td", { "data-col": "starts_at", text: when(x.starts_at) }),
        el("td", { "data-col": "ends_at", text: when(x.ends_at) }), el("td", { "data-col": "capacity", text: zy.num(x.capacity) }),
        el("td", { "data-col": "confirmed", text: zy.num(x.confirmed) }), el("td", { "data-col": "waitlisted", text: zy.num(x.waitlisted) }),
        el("td", {}, el("a", { href: `#/projects/${enc(project.id)}?session=${enc(x.id)}`, "data-action": "manage", text: T("manage") }))))));

    const parts = [
      el("p", {}, el("a", { href: "#/projects", "data-testid": "back-to-projects", text: `‹ ${T("back")}` })),
      el("section", { class: "card", "data-testid": "project-detail", "data-id": project.id, "data-status": status },
        el("h2", { "data-testid": "project-title" }, `${project.title} `,
          el("span", { style: BADGE, "data-testid": "project-status", "data-status": status, text: T(status) })),
        details, actions, message, notice),
    ];
    if (manager && ["PROJECT_STATUS_DRAFT", "PROJECT_STATUS_RETURNED"].includes(status)) parts.push(editForm(project, again));
    parts.push(el("section", { class: "card", style: "margin-top:12px" }, el("h3", { text: `${T("sessions")}（${T("timesNote")}）` }), sessionTable));
    if (chosen) parts.push(sessionPanel(project, chosen, sessions.indexOf(chosen), me, gen));
    view.replaceChildren(...parts);
    return undefined;
  }

  function sessionPanel(project, session, index, me, gen) {
    const running = project.status === "PROJECT_STATUS_IN_PROGRESS";
    const open = ["PROJECT_STATUS_RECRUITING", "PROJECT_STATUS_IN_PROGRESS"].includes(project.status);
    const manager = hasAny(me, MANAGERS);
    const sid = enc(session.id);
    const alive = () => gen === generation;

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
        flash = `${T("done")}: ${s.volunteer_number}`;
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
        el("td", { "data-col": "volunteer_number", text: s.volunteer_number }),
        el("td", { "data-col": "status", text: T(s.status) }),
        el("td", { text: when(s.created_at) }), el("td", { "data-col": "reason", text: s.reason || "" }), cell);
    };
    async function loadSignUps() {
      try {
        const list = await allPages(`/sessions/${sid}/sign-ups`, "sign_ups");
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
    // never shows an expired code), with a countdown meanwhile.
    const codeBox = el("div", { "data-testid": "checkin-code", style: "text-align:center" });
    const codeError = el("p", { class: "error", "data-testid": "checkin-message" });
    async function loadCode() {
      if (!alive()) return;
      try {
        const c = await get(`/sessions/${sid}/check-in-code`);
        if (!alive()) return;
        const until = Date.parse(c.valid_until);
        const countdown = el("span", { "data-testid": "checkin-countdown" });
        const tick = () => { countdown.textContent = `${zy.num(Math.max(0, Math.ceil((until - Date.now()) / 1000)))} ${T("refreshIn")}`; };
        tick();
        clear(codeError);
        codeBox.dataset.code = c.code;
        codeBox.dataset.validUntil = c.valid_until;
        codeBox.dataset.loaded = String(Date.now());
        codeBox.replaceChildren(
          el("div", { "data-testid": "checkin-code-value", "aria-label": T("checkInCode"), style: CODE_STYLE, text: c.code }),
          el("div", { "data-testid": "checkin-expiry", text: `${T("validUntil")} ${when(c.valid_until, true)}` }),
          el("div", { style: "color:#666;font-size:12px" }, countdown));
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
      ? el("div", {}, el("h4", { style: "margin:4px 0", text: T("checkInCode") }), codeBox, codeError)
      : el("p", { class: "empty", "data-testid": "checkin-hidden", style: "padding:8px 0", text: T("codeHidden") });
    const panel = el("section", { class: "card", style: "margin-top:12px", "data-testid": "session-panel", "data-id": session.id },
      el("h3", { text: `${T("selected")} #${index + 1}: ${when(session.starts_at)} – ${when(session.ends_at)}` }),
      el("div", { style: "display:grid;grid-template-columns:minmax(0,2fr) minmax(260px,1fr);gap:16px" },
        el("div", { style: "overflow-x:auto" },
          el("h4", { style: "margin:4px 0", text: T("signUps") }), suError, suNotice, suTable, suEmpty),
        codeSection),
      // Full width: the attendance rows carry the check-out and close tools.
      el("div", { style: "overflow-x:auto" },
        el("h4", { style: "margin:12px 0 4px", text: T("attendance") }),
        el("div", { class: "tools" }, el("button", { type: "button", "data-testid": "attendance-refresh", text: T("refresh"), on: { click: loadAttendance } })),
        manager ? el("p", { style: "color:#666;font-size:12px;margin:2px 0", "data-testid": "close-help", text: T("closeHelp") }) : "",
        atError, atNotice, atTable, atEmpty));
    // Sign-ups after attendance: who is present decides their buttons.
    loadAttendance().then(loadSignUps);
    if (running && manager) loadCode();
    return panel;
  }

  zy.pages["/projects"] = (rest, params) => {
    const id = decodeURIComponent((rest || "").split("/")[0]);
    return id ? renderDetail(id, params) : renderList(params);
  };
  // Leaving the page stops the code's timers.
  window.addEventListener("hashchange", () => { if (!location.hash.startsWith("#/projects")) newRender(); });
})();
