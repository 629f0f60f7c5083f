// The dashboard (#/dashboard): its words in Chinese and English. Both
// languages have the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("", {
  zh: {
    children: "下级单位", export: "导出", year: "年度", volunteers_registered: "注册志愿者", volunteers_verified: "已认证志愿者",
    organisations: "组织与队伍", projects: "发布项目", hours_year: "本年服务时长（小时）", hours_total: "累计服务时长（小时）",
    tonnes: "回收（吨）", bins_deployed: "在用回收箱", stars: "星级志愿者", awards: "表彰", code: "区划代码", name: "名称",
    hours_by_month: "本年每月服务时长", hours_by_field: "各服务领域时长", tonnes_by_child: "各下级单位回收吨数", stars_chart: "星级分布",
    noData: "暂无数据", unavailableChart: "暂不可用", noChildren: "该区划下暂无下级单位",
    campaignsLink: "专项行动成效",
    fedTitle: "联邦下级平台", fedNote: "下级平台上报的数据，未计入本级数字", fedRelease: "平台", fedLastDelta: "最近同步",
    fedNever: "尚未收到", fedStale: "同步滞后", fedFresh: "同步正常", fedNone: "本区划下暂无下级平台上报数据", fedBadge: "联邦",
  },
  en: {
    children: "Units below", export: "Export", year: "Year", volunteers_registered: "Registered volunteers",
    volunteers_verified: "Verified volunteers", organisations: "Organisations and teams",
    projects: "Projects published", hours_year: "Service hours this year",
    hours_total: "Service hours in total", tonnes: "Recycled (tonnes)", bins_deployed: "Bins in service",
    stars: "Star volunteers", awards: "Awards", code: "Code", name: "Name",
    hours_by_month: "Service hours per month", hours_by_field: "Hours by service field",
    tonnes_by_child: "Tonnes by unit", stars_chart: "Star ratings", noData: "No data yet",
    unavailableChart: "Unavailable for now", noChildren: "No units below this division yet",
    campaignsLink: "Campaign figures",
    fedTitle: "Federated releases", fedNote: "Figures forwarded by downstream releases, not included in this release's own",
    fedRelease: "Release", fedLastDelta: "last delta", fedNever: "none yet", fedStale: "Stale", fedFresh: "Up to date",
    fedNone: "No federated release reports under this division", fedBadge: "Federated",
  },
});
