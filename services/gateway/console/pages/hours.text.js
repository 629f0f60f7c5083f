// The hours review queue (#/hours): its words in Chinese and English. Both
// languages have the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("", {
  zh: {
    approve: "通过", reject: "驳回", rejectReason: "驳回原因", volunteer: "志愿者编号", content: "服务内容", started: "开始时间",
    hours: "时长（小时）", division: "区划", none: "没有待审核的记录", actions: "操作",
  },
  en: {
    approve: "Approve", reject: "Reject", rejectReason: "Why is it rejected?", volunteer: "Volunteer no.",
    content: "Service", started: "Started", hours: "Hours", division: "Division",
    none: "Nothing awaits review", actions: "Actions",
  },
});
