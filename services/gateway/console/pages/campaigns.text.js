// The special campaigns page (#/campaigns): its words in Chinese and English.
// Both languages have the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("cg", {
  zh: {
    nav: "专项行动", title: "专项行动", help: "省级或市级发布的专项行动（如寒冬送温暖）在其辖区内共享；下级单位可将项目、结对走访、捐赠活动和上门回收关联到行动，只有发布单位可以修改。",
    none: "暂无专项行动", publisher: "发布单位", window: "行动期间", groups: "帮扶对象", open: "查看",
    publish: "发布专项行动", campaignTitle: "行动名称", description: "行动说明", startsOn: "开始日期", endsOn: "结束日期",
    save: "发布", back: "返回专项行动列表", figures: "行动成效", at: "统计范围",
    households: "走访户数", volunteers: "参与志愿者", hours: "服务时长（小时）", items: "捐赠物品（件）", kg: "回收（公斤）", visits: "走访次数",
    byWeek: "每周走访户数", byWeekHours: "每周服务时长", byChild: "各下级单位", unit: "单位", week: "周", total: "合计",
    ownFacts: "本级", noFigures: "暂无关联数据", up: "返回上一级",
    dibao: "低保户", flood_affected: "受灾户", sick_disabled: "病残", left_behind_children: "留守儿童",
    elderly_alone: "独居老人", disabled_children: "残疾儿童", veterans: "退役军人",
    campaign: "专项行动", noCampaign: "不关联专项行动", cardTitle: "关联专项行动", taggedTo: "已关联",
    notTagged: "未关联专项行动", tag: "关联", untag: "取消关联", pickOne: "请先选择一个专项行动",
    tagDone: "已关联专项行动", untagDone: "已取消关联专项行动",
    pickerHelp: "仅列出覆盖本项目区划且今天在行动期间内的专项行动；各场次须在行动期间内开始。",
    taggedProjects: "关联项目", noTaggedProjects: "本范围内暂无关联项目", project: "项目", projectStatus: "状态",
    projectsCapped: "只查看了本范围内的前 {n} 个项目，关联项目可能未列全。",
  },
  en: {
    nav: "Campaigns", title: "Special campaigns", help: "A campaign published by a province or city (e.g. 寒冬送温暖, winter warmth) is shared across its area; offices below tag projects, pairing visits, donation drives and pickups to it; only the publisher edits it.",
    none: "No campaigns", publisher: "Published by", window: "Window", groups: "Target groups", open: "Open",
    publish: "Publish a campaign", campaignTitle: "Title", description: "Description", startsOn: "Starts on", endsOn: "Ends on",
    save: "Publish", back: "Back to campaigns", figures: "Figures", at: "Area",
    households: "Households reached", volunteers: "Volunteers", hours: "Hours served", items: "Items delivered", kg: "Collected (kg)", visits: "Visits",
    byWeek: "Households reached per week", byWeekHours: "Hours per week", byChild: "By unit below", unit: "Unit", week: "Week", total: "Total",
    ownFacts: "this level", noFigures: "Nothing tagged yet", up: "Up one level",
    dibao: "Subsistence-allowance households", flood_affected: "Flood-affected households", sick_disabled: "Sick and disabled",
    left_behind_children: "Left-behind children", elderly_alone: "Elderly living alone", disabled_children: "Disabled children", veterans: "Veterans",
    campaign: "Special campaign", noCampaign: "No campaign", cardTitle: "Special campaign", taggedTo: "Tagged to",
    notTagged: "Not tagged to a campaign", tag: "Tag", untag: "Untag", pickOne: "Choose a campaign first",
    tagDone: "Tagged to the campaign", untagDone: "Campaign tag removed",
    pickerHelp: "Only campaigns covering the project's division whose window includes today are listed; every session must start inside the window.",
    taggedProjects: "Tagged projects", noTaggedProjects: "No tagged projects in this area", project: "Project", projectStatus: "Status",
    projectsCapped: "Only the first {n} projects of this area were searched: the list may be incomplete.",
  },
});
