// The labels of the request fields the services name in their errors
// ("field": "id_number"), so an error reads "身份证号：校验位不正确", not
// "id_number: ...". Indexed fields (sessions[1].ends_at) use the entry
// without the index and show the position after it. A field missing here
// falls back to the label of the form control that carries it.
// Both languages have the same keys (tests/unit/test_console_i18n.py).
"use strict";

window.zy.dictionary("field", {
  zh: {
    name: "姓名", id_number: "身份证号", phone: "手机号", home_division_code: "所属区划",
    service_fields: "服务领域", service_field: "服务领域", division_code: "区划代码", division: "区划",
    organisation_id: "组织", organisation_name: "组织名称", parent_id: "上级组织", kind: "类型",
    username: "账号", password: "密码", scope_code: "管辖区划", roles: "角色", display_name: "显示名称",
    volunteer_id: "志愿者", volunteer_number: "志愿者编号", volunteer: "志愿者",
    campaign_id: "专项行动", insurance: "保险", insurer: "保险公司", policy_number: "保单号", project_id: "项目",
    required_course_id: "报名前须参加的培训课程", course_id: "培训课程", training_session_id: "培训场次",
    title: "项目名称", description: "项目简介", place: "服务地点", recruit_starts_at: "招募开始",
    recruit_ends_at: "招募截止", "eligibility.min_age": "最低年龄", "eligibility.required_skills": "报名须具备的服务领域",
    "sessions.starts_at": "场次开始时间", "sessions.ends_at": "场次结束时间", "sessions.capacity": "场次名额",
    sessions: "活动场次", leader_approval: "报名需负责人审批", emergency: "应急招募", ended_at: "补签退时间",
    reason: "原因", comment: "审核意见", code: "签到码", content: "服务内容", hours: "时长", new_hours: "更正后时长",
    started_at: "开始时间", session_start: "开始时间", session_end: "结束时间",
    start_month: "起始月份", end_month: "截止月份", period: "证明期间", issuer_name: "出具单位",
    person_in_charge: "负责人", handler: "经办人", contact: "联系方式", number: "证明编号",
    status: "状态", category: "表彰类别", statement: "推荐理由", nominee_name: "推荐对象名称",
    nominee_volunteer_id: "推荐的志愿者", nominee_division_code: "推荐对象所属区划", resolution: "处理结果",
    address: "地址", bin_codes: "回收箱编号", contact_name: "联系人", contact_phone: "联系电话",
    window_start: "预约开始", window_end: "预约结束", note: "备注", weights: "各类重量（千克）",
    "weights.textiles_kg": "衣物（千克）", "weights.books_kg": "书籍（千克）", "weights.other_kg": "其他（千克）",
    "items.garments": "衣物（件）", "items.books": "书籍（册）", "items.other": "其他（件）", items: "捐赠物品",
    households: "参与户数", collected_on: "回收日期", held_on: "活动日期", deployed_on: "投放日期",
    page_token: "翻页标记", page_size: "每页条数", q: "查询", file: "文件", request_id: "请求编号",
  },
  en: {
    name: "Name", id_number: "ID number", phone: "Mobile", home_division_code: "Home division",
    service_fields: "Service fields", service_field: "Service field", division_code: "Division code", division: "Division",
    organisation_id: "Organisation", organisation_name: "Organisation name", parent_id: "Parent organisation", kind: "Kind",
    username: "Username", password: "Password", scope_code: "Jurisdiction", roles: "Roles", display_name: "Display name",
    volunteer_id: "Volunteer", volunteer_number: "Volunteer no.", volunteer: "Volunteer",
    campaign_id: "Special campaign", insurance: "Insurance", insurer: "Insurer", policy_number: "Policy number", project_id: "Project",
    required_course_id: "Required training course", course_id: "Course", training_session_id: "Training session",
    title: "Title", description: "Description", place: "Place", recruit_starts_at: "Recruiting from",
    recruit_ends_at: "Recruiting until", "eligibility.min_age": "Minimum age", "eligibility.required_skills": "Required service fields",
    "sessions.starts_at": "Session start", "sessions.ends_at": "Session end", "sessions.capacity": "Session places",
    sessions: "Sessions", leader_approval: "Leader's approval", emergency: "Emergency campaign", ended_at: "Service ended at",
    reason: "Reason", comment: "Comment", code: "Check-in code", content: "Service", hours: "Hours", new_hours: "Corrected hours",
    started_at: "Started", session_start: "Starts", session_end: "Ends",
    start_month: "From month", end_month: "To month", period: "Period", issuer_name: "Issuer",
    person_in_charge: "Person in charge", handler: "Handler", contact: "Contact", number: "Certificate number",
    status: "Status", category: "Award category", statement: "Statement", nominee_name: "Nominee",
    nominee_volunteer_id: "Nominated volunteer", nominee_division_code: "Nominee's division", resolution: "Resolution",
    address: "Address", bin_codes: "Bin codes", contact_name: "Contact name", contact_phone: "Contact phone",
    window_start: "Window from", window_end: "Window until", note: "Note", weights: "Weights (kg)",
    "weights.textiles_kg": "Textiles (kg)", "weights.books_kg": "Books (kg)", "weights.other_kg": "Other (kg)",
    "items.garments": "Garments", "items.books": "Books", "items.other": "Other items", items: "Donated items",
    households: "Households", collected_on: "Collected on", held_on: "Held on", deployed_on: "Deployed on",
    page_token: "Page token", page_size: "Page size", q: "Search", file: "File", request_id: "Request ID",
  },
});
