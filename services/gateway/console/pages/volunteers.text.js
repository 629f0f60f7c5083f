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
    status_merged: "已合并", vmAction: "合并重复注册", vmActionHint: "将同一人的另一条重复注册合并到此记录",
    vmTitle: "合并重复注册", vmSurvivor: "保留的记录", vmMerged: "被合并的重复记录", vmHours: "已认定时长（小时）",
    vmFind: "查找重复记录", vmFindHelp: "在您的管辖范围内按志愿者编号或完整身份证号查找（姓名已脱敏，不能按姓名查找）。",
    vmNotFound: "在您的管辖范围内未找到该志愿者", vmPick: "选为重复记录", vmCompare: "核对两条记录",
    vmReason: "合并原因", vmReasonHint: "如：同一身份证号重复注册，已电话核实",
    vmWhatHappens: "合并后，重复记录的服务时长、队伍成员身份、证书和活动报名转到保留的记录，重复记录标记为“已合并”；管理员可在合并记录中撤销。",
    vmSubmit: "合并…", vmConfirmYes: "确认合并", vmConfirmBack: "返回",
    vmConfirmText: "确认将 {merged} 合并到 {survivor}？{merged} 的服务时长、队伍成员身份、证书和活动报名将转到 {survivor}，{merged} 标记为“已合并”。此操作会记入审计，管理员可以撤销。",
    vmDone: "已合并", vmList: "合并记录", vmListHelp: "涉及您管辖范围的合并，最新的在前。撤销会把两条记录完全恢复到合并前的状态。",
    vmEmpty: "暂无合并记录", vmBy: "操作", vmRevertedBy: "撤销", vmLive: "已合并", vmRevertedBadge: "已撤销",
    vmRevert: "撤销合并", vmRevertYes: "确认撤销",
    vmRevertText: "确认撤销？{merged} 将恢复为合并前的状态，移到 {survivor} 的队伍成员身份和账号退回 {merged}，时长等随之恢复。",
    vmReverted: "已撤销合并",
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
    status_merged: "Merged", vmAction: "Merge a duplicate",
    vmActionHint: "Merge another registration of the same person into this record",
    vmTitle: "Merge a duplicate registration", vmSurvivor: "Record kept", vmMerged: "Duplicate merged",
    vmHours: "Approved hours", vmFind: "Find the duplicate",
    vmFindHelp: "By volunteer no. or whole ID number, in your area (names are masked and cannot be searched).",
    vmNotFound: "no such volunteer in your area", vmPick: "This is the duplicate", vmCompare: "Check both records",
    vmReason: "Reason for merging", vmReasonHint: "e.g. same ID number registered twice; confirmed by phone",
    vmWhatHappens: "The duplicate's hours, team memberships, certificates and sign-ups move to the record kept, and "
      + "the duplicate is marked merged. An admin can revert it from the merges list.",
    vmSubmit: "Merge…", vmConfirmYes: "Yes, merge", vmConfirmBack: "Back",
    vmConfirmText: "Merge {merged} into {survivor}? The hours, team memberships, certificates and sign-ups of "
      + "{merged} move to {survivor}, and {merged} is marked merged. This is audited and an admin can revert it.",
    vmDone: "Merged", vmList: "Merges",
    vmListHelp: "Merges touching your area, newest first. Reverting restores both records exactly as they were.",
    vmEmpty: "No merges yet", vmBy: "By", vmRevertedBy: "Reverted by", vmLive: "Merged", vmRevertedBadge: "Reverted",
    vmRevert: "Revert the merge", vmRevertYes: "Yes, revert",
    vmRevertText: "Revert? {merged} returns to its state before the merge; the team memberships and account moved "
      + "to {survivor} go back to {merged}, and its hours follow.",
    vmReverted: "Merge reverted",
  },
});
