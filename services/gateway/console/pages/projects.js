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
  }].map(prefixed));

  const T = (k) => { const v = zy.t(`pj.${k}`); return v === `pj.${k}` ? zy.t(k) : v; };
  const isZh = () => zy.lang() === "zh";
  const enc = encodeURIComponent;
  const get = async (path) => (await zy.api(path)).json();
  const post = async (path, body) => (await zy.api(path, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body || {}),
  })).json();
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
    if (!fieldsCache) fieldsCache = (await get("/service-fields")).fields || [];
    return fieldsCache;
  }
  const fieldName = (code) => {
    const f = (fieldsCache || []).find((x) => x.code === code);
    return f ? (isZh() ? f.name_zh : f.name_en) : code;
  };

  // "field: message" in the current language, field and rule kept as data.
  function showError(node, err) {
    const e = err?.body?.error;
    const message = e ? (isZh() ? e.message_zh : e.message_en) : `${zy.t("failed")}: ${err?.message || err}`;
    node.textContent = e?.field ? `${e.field}: ${message}` : message;
    node.dataset.field = e?.field || "";
    node.dataset.rule = e?.rule || "";
    node.hidden = false;
  }
  function clear(node) { node.textContent = ""; node.dataset.field = ""; node.dataset.rule = ""; delete node.dataset.id; }

  async function allPages(path, key) {
    const items = [];
    let token = "";
    for (let i = 0; i < 20; i += 1) {
      const sep = path.includes("?") ? "&" : "?";
      const data = await get(`${path}${sep}page_size=500&page_token=${enc(token)}`);
      items.push(...(data[key] || []));
      token = data.page?.next_page_token || "";
      if (!token) break;
    }
    return items;
  }

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

  async function createForm(me, gen, notice, reload) {
    let orgs = [];
    try { orgs = await allPages("/organisations", "organisations"); } catch (err) { orgs = []; }
    const kindOf = (o) => String(o.kind || "").replace("ORGANISATION_KIND_", "").toLowerCase();
    orgs.sort((a, b) => (a.division_code.length - b.division_code.length)
      || (kindOf(a) === kindOf(b) ? 0 : kindOf(a) === "organisation" ? -1 : 1) || a.name.localeCompare(b.name, "zh"));
    const fields = fieldsCache || [];
    const formError = el("p", { class: "error", "data-testid": "project-form-error" });
    const label = (text, node) => el("label", { style: LABEL }, el("span", { text }), node);
    const input = (name, attrs = {}) => el("input", { name, "data-field": name, "data-testid": `pj-${name.replace(/_/g, "-")}`, autocomplete: "off", ...attrs });

    const org = el("select", { name: "organisation_id", "data-field": "organisation_id", "data-testid": "pj-organisation" },
      orgs.map((o) => el("option", { value: o.id, text: `${o.name} (${o.division_code})` })));
    const field = el("select", { name: "service_field", "data-field": "service_field", "data-testid": "pj-service-field" },
      el("option", { value: "", text: "—" }), fields.map((f) => el("option", { value: f.code, text: isZh() ? f.name_zh : f.name_en })));
    const kind = el("select", { name: "kind", "data-field": "kind", "data-testid": "pj-kind" },
      ["PROJECT_KIND_SERVICE", "PROJECT_KIND_DONATION"].map((k) => el("option", { value: k, text: T(k) })));
    const skills = el("fieldset", { "data-testid": "pj-required-skills", "data-field": "eligibility.required_skills", style: "display:flex;flex-wrap:wrap;gap:4px 14px;border:1px solid #eee" },
      el("legend", { text: T("requiredSkills") }),
      fields.map((f) => el("label", {}, el("input", { type: "checkbox", name: "required_skills", value: f.code }), isZh() ? f.name_zh : f.name_en)));

    // Defaults: one session tomorrow 09:00–11:00, recruiting from now until it starts.
    const tomorrow = local(Date.now() + 86400e3).slice(0, 10);
    const sessionList = el("div", { "data-testid": "pj-sessions" });
    const renumber = () => [...sessionList.children].forEach((r, i) => {
      r.dataset.index = String(i);
      r.querySelector("[name=session_starts_at]").dataset.field = `sessions[${i}].starts_at`;
      r.querySelector("[name=session_ends_at]").dataset.field = `sessions[${i}].ends_at`;
      r.querySelector("[name=session_capacity]").dataset.field = `sessions[${i}].capacity`;
    });
    const addSession = (start = "", end = "", capacity = "10") => {
      const r = el("div", { class: "session-row", "data-testid": "pj-session", style: GRID },
        label(T("sessionStart"), el("input", { type: "datetime-local", name: "session_starts_at", value: start })),
        label(T("sessionEnd"), el("input", { type: "datetime-local", name: "session_ends_at", value: end })),
        label(T("capacity"), el("input", { type: "number", min: "1", name: "session_capacity", value: capacity, style: "width:90px" })),
        el("button", { type: "button", "data-action": "remove-session", style: "align-self:end", text: T("removeSession"), on: { click: () => {
          if (sessionList.children.length > 1) { r.remove(); renumber(); }
        } } }));
      sessionList.append(r); renumber();
    };
    addSession(`${tomorrow}T09:00`, `${tomorrow}T11:00`);

    const submit = el("button", { type: "submit", "data-testid": "pj-submit", text: T("save") });
    const form = el("form", { class: "card form", style: "margin-top:12px", novalidate: "", "data-testid": "project-form", on: { submit: async (e) => {
      e.preventDefault();
      clear(formError); clear(notice);
      form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
      const v = (n) => (form.elements[n]?.value || "").trim();
      const rows = [...sessionList.children];
      const payload = {
        organisation_id: org.value, title: v("title"), description: v("description"), place: v("place"),
        service_field: field.value, kind: kind.value,
        sessions: rows.map((r) => ({
          starts_at: rfc(r.querySelector("[name=session_starts_at]").value),
          ends_at: rfc(r.querySelector("[name=session_ends_at]").value),
          capacity: Number(r.querySelector("[name=session_capacity]").value) || 0,
        })),
        recruit_starts_at: rfc(v("recruit_starts_at")), recruit_ends_at: rfc(v("recruit_ends_at")),
        eligibility: {
          min_age: Number(v("min_age")) || 0,
          required_skills: [...skills.querySelectorAll("input:checked")].map((c) => c.value),
        },
        leader_approval: form.elements.leader_approval.checked,
        emergency: !!form.elements.emergency?.checked,
      };
      submit.disabled = true;
      try {
        const r = await zy.api("/projects", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
        const p = (await r.json()).project;
        notice.replaceChildren(`${T("createdOk")}: ${p.title} `, el("a", { href: `#/projects/${enc(p.id)}`, "data-testid": "pj-created-link", text: T("openIt") }));
        notice.dataset.id = p.id;
        form.elements.title.value = "";
        await reload();
      } catch (err) {
        if (err.status === 401) return;
        showError(formError, err);
        const bad = err.body?.error?.field && form.querySelector(`[data-field="${CSS.escape(err.body.error.field)}"]`);
        if (bad) { bad.setAttribute("aria-invalid", "true"); bad.focus?.(); }
      } finally { submit.disabled = false; }
    } } },
    el("h3", { text: T("create") }),
    el("div", { style: GRID },
      label(T("organisation"), org),
      label(T("title"), input("title", { maxlength: "100", size: "30" })),
      label(T("place"), input("place", { maxlength: "200", size: "30" })),
      label(T("field"), field), label(T("kind"), kind)),
    label(T("description"), el("textarea", { name: "description", "data-field": "description", "data-testid": "pj-description", rows: "2", maxlength: "2000", style: "width:100%" })),
    el("div", { style: GRID },
      label(T("recruitStarts"), input("recruit_starts_at", { type: "datetime-local", value: local(Date.now()) })),
      label(T("recruitEnds"), input("recruit_ends_at", { type: "datetime-local", value: `${tomorrow}T09:00` })),
      label(T("minAge"), input("min_age", { type: "number", min: "0", max: "100", value: "0", "data-field": "eligibility.min_age", style: "width:90px" })),
      el("label", { style: "align-self:end" }, input("leader_approval", { type: "checkbox" }), ` ${T("leaderApproval")}`),
      me.scope_code.length <= 4
        ? el("label", { style: "align-self:end" }, input("emergency", { type: "checkbox" }), ` ${T("emergency")}`) : ""),
    skills,
    el("h4", { style: "margin:10px 0 0", text: `${T("sessions")}（${T("timesNote")}）` }),
    sessionList,
    el("div", { class: "tools" },
      el("button", { type: "button", "data-testid": "pj-add-session", text: T("addSession"), on: { click: () => {
        const last = sessionList.lastElementChild;
        addSession("", "", last?.querySelector("[name=session_capacity]").value || "10");
      } } }),
      submit),
    formError);
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
      el("section", { class: "card", style: "margin-top:12px" }, el("h3", { text: `${T("sessions")}（${T("timesNote")}）` }), sessionTable),
    ];
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
      if (manager && running && s.status === "SIGN_UP_STATUS_CONFIRMED") {
        cell.append(el("button", { type: "button", "data-action": "check-in", text: T("checkInDirect"), on: { click: () => decide(s, "check-in", { volunteer_id: s.volunteer_id }) } }));
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

    // Attendance.
    const atError = el("p", { class: "error", "data-testid": "attendance-message" });
    const atBody = el("tbody");
    const atTable = el("table", { "data-testid": "attendance-table" },
      el("thead", {}, el("tr", {}, ["volunteerNumber", "checkedIn", "checkedOut", "closedBy"].map((h) => el("th", { text: T(h) })))), atBody);
    const atEmpty = el("p", { class: "empty", "data-testid": "attendance-empty", text: T("noneAttendance"), hidden: "" });
    async function loadAttendance() {
      try {
        const list = await allPages(`/sessions/${sid}/attendances`, "attendances");
        if (!alive()) return;
        atBody.replaceChildren(...list.map((a) => el("tr", { "data-id": a.id, "data-volunteer": a.volunteer_id, "data-number": a.volunteer_number },
          el("td", { "data-col": "volunteer_number", text: a.volunteer_number }),
          el("td", { "data-col": "checked_in_at", text: when(a.checked_in_at, true) }),
          el("td", { "data-col": "checked_out_at", text: a.checked_out_at ? when(a.checked_out_at, true) : T("notOut") }),
          el("td", { "data-col": "closed_by", text: a.closed_by ? T(`closed_${a.closed_by}`) : "" }))));
        atTable.hidden = !list.length; atEmpty.hidden = !!list.length;
        atTable.dataset.loaded = String(Date.now());
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
        el("div", {},
          el("h4", { style: "margin:4px 0", text: T("signUps") }), suError, suNotice, suTable, suEmpty,
          el("h4", { style: "margin:12px 0 4px", text: T("attendance") }),
          el("div", { class: "tools" }, el("button", { type: "button", "data-testid": "attendance-refresh", text: T("refresh"), on: { click: loadAttendance } })),
          atError, atTable, atEmpty),
        codeSection));
    loadSignUps();
    loadAttendance();
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
