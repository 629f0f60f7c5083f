// The volunteers page (#/volunteers): its words in Chinese and English. Both languages have the
// same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("", {
  zh: {
    navVolunteers: "志愿者", volunteersTitle: "志愿者管理", volNumber: "志愿者编号", volName: "姓名",
    volIdNumber: "身份证号", volPhone: "手机号", volHome: "所属区划", volStatus: "状态",
    volFields: "服务领域", status_all: "全部状态", status_pending: "待审核", status_verified: "已认证",
    status_rejected: "已驳回", volVerify: "认证", volReject: "驳回", volJoin: "加入队伍",
    volTeam: "选择队伍", volNoTeams: "没有可选的队伍", volNext: "下一页", volFirst: "第一页",
    volRegister: "注册志愿者", volSubmit: "提交注册", volRegistered: "注册成功", volEmpty: "暂无志愿者",
    volTotal: "共", volPeople: "人", volJoined: "已加入队伍", volDone: "操作成功",
    volFieldsHelp: "可多选", volSearch: "按志愿者编号或完整身份证号查找", volFind: "查找", volClear: "清除",
  },
  en: {
    navVolunteers: "Volunteers", volunteersTitle: "Volunteers", volNumber: "Volunteer no.", volName: "Name",
    volIdNumber: "ID number", volPhone: "Phone", volHome: "Home division", volStatus: "Status",
    volFields: "Service fields", status_all: "All statuses", status_pending: "Pending",
    status_verified: "Verified", status_rejected: "Rejected", volVerify: "Verify", volReject: "Reject",
    volJoin: "Join team", volTeam: "Choose a team", volNoTeams: "No teams to choose from",
    volNext: "Next page", volFirst: "First page", volRegister: "Register a volunteer", volSubmit: "Register",
    volRegistered: "Registered", volEmpty: "No volunteers yet", volTotal: "Total", volPeople: "",
    volJoined: "Joined the team", volDone: "Done", volFieldsHelp: "choose any",
    volSearch: "Volunteer no. or whole ID number", volFind: "Find", volClear: "Clear",
  },
});
