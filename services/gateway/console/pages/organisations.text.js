// The organisations page (#/organisations): its words in Chinese and English. Both languages have the
// same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("", {
  zh: {
    navOrganisations: "组织与队伍", orgTitle: "组织与队伍", orgCreate: "创建组织或队伍", orgName: "名称",
    orgKind: "类型", kind_organisation: "志愿服务组织", kind_team: "志愿服务队", orgDivision: "所属区划代码",
    orgParent: "上级组织", orgNoParent: "（无，顶级）", orgSubmit: "创建", orgCreated: "已创建",
    orgEmpty: "暂无组织", orgTotal: "共", orgCount: "个",
  },
  en: {
    navOrganisations: "Organisations", orgTitle: "Organisations and teams", orgCreate: "Create an organisation or team",
    orgName: "Name", orgKind: "Kind", kind_organisation: "Organisation", kind_team: "Team",
    orgDivision: "Division code", orgParent: "Parent", orgNoParent: "(none, top level)", orgSubmit: "Create",
    orgCreated: "Created", orgEmpty: "No organisations yet", orgTotal: "Total", orgCount: "",
  },
});
