// The transfers page (#/transfers, 记录转移接续): its words in Chinese and English. Both languages have
// the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("tf", {
  zh: {
    nav: "转移接续", title: "志愿者转移接续", incoming: "转入申请", outgoing: "转出申请", all: "全部",
    status: "状态", status_all: "全部状态", status_pending: "待处理", status_accepted: "已接收",
    status_refused: "已拒绝", status_cancelled: "已撤回", volunteer: "志愿者", from: "原居住地", to: "新居住地",
    requested: "申请时间", requestedBy: "申请人", consent: "本人同意", channel_app: "本人在手机端申请",
    channel_office: "原居住地代办", decided: "处理", reason: "拒绝原因", accept: "接收", refuse: "拒绝",
    cancel: "撤回", empty: "暂无转移申请", accepted: "已接收，志愿者已转入", refused: "已拒绝",
    cancelled: "已撤回", reasonPrompt: "请填写拒绝原因", fileTitle: "代志愿者申请转移",
    fileHelp: "须取得志愿者本人同意，并注明同意书存放位置。", volunteerId: "志愿者编号（系统ID）",
    toCode: "新居住地区划代码（乡镇或村）", note: "同意书存放说明", consentBox: "志愿者已同意转移",
    submit: "提交申请", filed: "已提交转移申请",
  },
  en: {
    nav: "Transfers", title: "Volunteer transfers", incoming: "Incoming", outgoing: "Outgoing", all: "All",
    status: "Status", status_all: "Any status", status_pending: "Pending", status_accepted: "Accepted",
    status_refused: "Refused", status_cancelled: "Cancelled", volunteer: "Volunteer", from: "Old home",
    to: "New home", requested: "Requested", requestedBy: "Requested by", consent: "Consent",
    channel_app: "by the volunteer in the app", channel_office: "filed by the old home's office",
    decided: "Decision", reason: "Reason refused", accept: "Accept", refuse: "Refuse", cancel: "Cancel",
    empty: "No transfers", accepted: "Accepted: the volunteer now belongs here", refused: "Refused",
    cancelled: "Cancelled", reasonPrompt: "Why is it refused?", fileTitle: "File a transfer for a volunteer",
    fileHelp: "Needs the volunteer's consent; say where the signed form is kept.",
    volunteerId: "Volunteer id (system id)", toCode: "New home code (township or village)",
    note: "Where the consent is kept", consentBox: "The volunteer consents to the transfer",
    submit: "File", filed: "Transfer filed",
  },
});
