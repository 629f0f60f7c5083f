// Projects: the create and the edit form (#/projects, #/projects/<id>), with
// the editable fields they share. Part of the projects page (projects.js).
"use strict";

(() => {
  const zy = window.zy;
  const { el, showError, allPages } = zy;
  const kit = zy.projects;
  const { T, rfc, local, enc, isZh, clear } = kit;

  // The editable fields of a project, shared by the create and the edit form
  // (UpdateProject takes the same fields as CreateProject, less the
  // organisation). ``v`` is a project to prefill from, or null for defaults.
  // A prefilled time left untouched is sent back exactly as it was stored.
  // The service position picker (position_id, optional): the positions of
  // ``division`` and below (GET /positions?division_code=); ``chosen`` (an
  // edited project's) stays listed even when the list no longer has it.
  function positionPicker(chosen) {
    const select = el("select", { name: "position_id", "data-field": "position_id", "data-testid": "pj-position" },
      el("option", { value: "", text: T("noPosition") }));
    select.value = "";
    select.load = async (division) => {
      let rows = [];
      if (division) {
        try {
          rows = await allPages(`/positions?${new URLSearchParams({ division_code: division })}`, "positions");
        } catch (err) {
          if (err.status === 401) throw err;
        }
      }
      const keep = select.value || chosen || "";
      select.replaceChildren(el("option", { value: "", text: T("noPosition") }),
        ...rows.map((x) => el("option", { value: x.id, text: `${x.name} (${x.division_name || x.division_code})` })));
      if (keep && !rows.some((x) => x.id === keep)) select.append(el("option", { value: keep, text: keep }));
      select.value = keep;
      select.dataset.loaded = division || "";
    };
    return select;
  }

  function projectFields(v, { lead = [], emergency = false } = {}) {
    const fields = kit.fields || [];
    const label = (text, node) => el("label", { class: "field" }, el("span", { text }), node);
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
    const skills = el("fieldset", { "data-testid": "pj-required-skills", "data-field": "eligibility.required_skills", class: "choices" },
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
      const r = el("div", { class: "session-row row", "data-testid": "pj-session" },
        label(T("sessionStart"), stamp("session_starts_at", start)),
        label(T("sessionEnd"), stamp("session_ends_at", end)),
        label(T("capacity"), el("input", { type: "number", min: "1", name: "session_capacity", value: String(capacity), class: "w-90" })),
        el("button", { type: "button", "data-action": "remove-session", class: "at-end", text: T("removeSession"), on: { click: () => {
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
    const description = el("textarea", { name: "description", "data-field": "description", "data-testid": "pj-description", rows: "2", maxlength: "2000", class: "full" });
    description.value = v?.description || "";
    field.value = v?.service_field || "";
    kind.value = v?.kind || "PROJECT_KIND_SERVICE";
    const recruitStarts = v ? time("recruit_starts_at", v.recruit_starts_at) : input("recruit_starts_at", { type: "datetime-local", value: local(Date.now()) });
    const recruitEnds = v ? time("recruit_ends_at", v.recruit_ends_at) : input("recruit_ends_at", { type: "datetime-local", value: `${tomorrow}T09:00` });
    const minAge = input("min_age", { type: "number", min: "0", max: "100", value: String(v?.eligibility?.min_age || 0), "data-field": "eligibility.min_age", class: "w-90" });
    const approval = input("leader_approval", { type: "checkbox" });
    approval.checked = !!v?.leader_approval;
    const urgent = emergency || v?.emergency ? input("emergency", { type: "checkbox" }) : null;
    if (urgent) urgent.checked = !!v?.emergency;
    const course = el("select", { name: "required_course_id", "data-field": "required_course_id", "data-testid": "pj-required-course" },
      el("option", { value: "", text: T("noCourse") }), (kit.courses || []).map((c) => el("option", { value: c.id, text: c.title })));
    course.value = v?.required_course_id || "";
    const position = positionPicker(v?.position_id || "");

    const nodes = [
      el("div", { class: "row" }, lead, label(T("title"), title), label(T("place"), place), label(T("field"), field), label(T("kind"), kind)),
      label(T("description"), description),
      el("div", { class: "row" },
        label(T("recruitStarts"), recruitStarts), label(T("recruitEnds"), recruitEnds), label(T("minAge"), minAge),
        el("label", { class: "at-end" }, approval, ` ${T("leaderApproval")}`),
        urgent ? el("label", { class: "at-end" }, urgent, ` ${T("emergency")}`) : ""),
      skills,
      el("div", { class: "row" }, label(T("requiredCourse"), course),
        el("label", { class: "field", title: T("positionHelp") }, el("span", { text: T("position") }), position)),
      el("h4", { class: "subhead", text: `${T("sessions")}（${T("timesNote")}）` }),
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
      required_course_id: course.value,
      position_id: position.value,
    });
    return { nodes, addButton, payload, title, position };
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
      lead: el("label", { class: "field" }, el("span", { text: T("organisation") }), org),
      emergency: me.scope_code.length <= 4,
    });
    // The positions follow the organisation: its division's subtree.
    const divisionOf = () => orgs.find((o) => o.id === org.value)?.division_code || "";
    org.addEventListener("change", () => editor.position.load(divisionOf()).catch(() => null));
    await editor.position.load(divisionOf()).catch(() => null);
    const submit = el("button", { type: "submit", "data-testid": "pj-submit", text: T("save") });
    const form = el("form", { class: "card form spaced", novalidate: "", "data-testid": "project-form", on: { submit: async (e) => {
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
      lead: el("label", { class: "field" }, el("span", { text: T("organisation") }),
        el("span", { class: "value", "data-testid": "pj-edit-organisation", text: `${project.organisation_name} (${project.division_code})` })),
      emergency: project.division_code.length <= 4,
    });
    editor.position.load(project.division_code).catch(() => null);
    const save = el("button", { type: "submit", "data-testid": "pj-edit-save", text: T("saveEdit") });
    const comment = project.status === "PROJECT_STATUS_RETURNED" && project.comment
      ? el("div", { "data-testid": "edit-comment", class: "callout" },
        el("strong", { text: `${T("returnedComment")}${isZh() ? "：" : ": "}` }), el("span", { "data-col": "comment", text: project.comment }))
      : "";
    const form = el("form", { class: "card form spaced", novalidate: "", "data-testid": "project-edit-form", "data-id": project.id, on: { submit: async (e) => {
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
    el("p", { class: "hint", text: T("editHelp") }),
    editor.nodes, el("div", { class: "tools" }, editor.addButton, save), formError);
    return form;
  }

  kit.createForm = createForm;
  kit.editForm = editForm;
})();
