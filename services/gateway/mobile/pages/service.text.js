// My service (service.js) in Chinese and English. Both languages have the
// same keys (tests/unit/test_mobile_i18n.py). {n}, {h}: numbers filled in.

export default {
  zh: {
    title: "我的服务", thisYear: "今年服务时长", total: "累计服务时长", pending: "待审核时长", records: "服务记录",
    timeBank: "时间银行余额", stars: "星级", starsOf: "{n} 星志愿者", counted: "计入星级的时长：{h} 小时",
    toNext: "再服务 {h} 小时可评 {n} 星", topStar: "已达到最高星级（五星）", starPending: "星级认定申请审核中",
    honours: "荣誉", noHonours: "暂无荣誉", status: "状态", allStatuses: "全部状态", noRecords: "暂无服务记录",
    why: "原因：", object: "对此记录有异议", reason: "异议理由", reasonHint: "请写明哪里不对，例如实际服务时段",
    sendObjection: "提交异议", objectionSent: "异议已提交，将由所在地志愿服务组织核实处理。",
    RECORD_STATUS_PENDING: "待审核", RECORD_STATUS_APPROVED: "已认定", RECORD_STATUS_REJECTED: "未认定",
    RECORD_STATUS_REVERSED: "已撤销", yourReason: "异议理由：", answer: "处理意见：",
    OBJECTION_STATUS_OPEN: "异议处理中", OBJECTION_STATUS_CORRECTED: "异议已采纳，记录已更正",
    OBJECTION_STATUS_DISMISSED: "异议未采纳",
  },
  en: {
    title: "My service", thisYear: "Hours this year", total: "Hours in all", pending: "Hours awaiting review",
    records: "Service records", timeBank: "Time-bank balance", stars: "Stars", starsOf: "{n}-star volunteer",
    counted: "Hours counted for stars: {h}", toNext: "{h} more hours to {n} stars",
    topStar: "You have the highest rating: five stars", starPending: "A star rating request is being reviewed",
    honours: "Honours", noHonours: "No honours yet", status: "Status", allStatuses: "All statuses",
    noRecords: "No service records yet", why: "Reason: ", object: "Object to this record", reason: "Your objection",
    reasonHint: "Say what is wrong, e.g. the time you actually served", sendObjection: "Send the objection",
    objectionSent: "Objection sent: your volunteer office will check it.",
    RECORD_STATUS_PENDING: "Awaiting review", RECORD_STATUS_APPROVED: "Approved", RECORD_STATUS_REJECTED: "Rejected",
    RECORD_STATUS_REVERSED: "Reversed", yourReason: "Your objection: ", answer: "The office's answer: ",
    OBJECTION_STATUS_OPEN: "Objection being checked", OBJECTION_STATUS_CORRECTED: "Objection upheld: record corrected",
    OBJECTION_STATUS_DISMISSED: "Objection dismissed",
  },
};
