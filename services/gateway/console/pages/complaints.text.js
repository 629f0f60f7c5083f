// The complaints queue (#/complaints): its words in Chinese and English. Both languages have the same keys
// (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("cp", {
  zh: {
    complaints: "投诉", queue: "投诉处理", fileTitle: "登记投诉", volunteer: "志愿者（ID）",
    record: "相关时长记录 ID（可选）", text: "投诉内容", textHelp: "投诉内容（必填，最多 1000 字）",
    submitFile: "登记", filed: "投诉已登记", status: "状态", allStatuses: "全部状态", apply: "查询",
    empty: "没有符合条件的投诉", filedAt: "登记时间", filedBy: "登记人", reply: "志愿者回复",
    noReply: "志愿者尚未回复", decision: "处理结果", note: "处理说明（必填）", upheld: "投诉成立",
    dismissed: "投诉不成立", decided: "已处理", division: "区划", byOrganisation: "组织登记",
    COMPLAINT_STATUS_OPEN: "待回复", COMPLAINT_STATUS_REPLIED: "已回复", COMPLAINT_STATUS_UPHELD: "投诉成立",
    COMPLAINT_STATUS_DISMISSED: "投诉不成立", openRecord: "查看记录",
  },
  en: {
    complaints: "Complaints", queue: "Complaints queue", fileTitle: "Record a complaint", volunteer: "Volunteer (id)",
    record: "Hour record id (optional)", text: "Complaint", textHelp: "What happened (required, at most 1000 characters)",
    submitFile: "Record", filed: "Complaint recorded", status: "Status", allStatuses: "All statuses", apply: "Search",
    empty: "No complaints match", filedAt: "Recorded", filedBy: "Recorded by", reply: "Volunteer's reply",
    noReply: "No reply yet", decision: "Outcome", note: "Why (required)", upheld: "Upheld",
    dismissed: "Dismissed", decided: "Decided", division: "Division", byOrganisation: "Recorded by an organisation",
    COMPLAINT_STATUS_OPEN: "Awaiting reply", COMPLAINT_STATUS_REPLIED: "Replied", COMPLAINT_STATUS_UPHELD: "Upheld",
    COMPLAINT_STATUS_DISMISSED: "Dismissed", openRecord: "Open the record",
  },
});
