// The service positions page (#/positions, 志愿服务阵地): its words in Chinese and English. Both languages have
// the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("ps", {
  zh: {
    nav: "服务阵地", title: "志愿服务阵地", kind: "类型", kind_all: "全部类型",
    kind_guidance_centre: "志愿服务指导中心", kind_street_centre: "街道（乡镇）志愿服务中心",
    kind_station: "学雷锋志愿服务站", kind_base: "志愿服务基地", baseLevel: "基地级别",
    level_district: "区级", level_city: "市级", level_province: "省级", level_national: "国家级",
    name: "名称", division: "所在区划代码", address: "地址", hours: "开放时间", updated: "更新时间",
    empty: "暂无服务阵地", total: "共", edit: "修改", createTitle: "新建服务阵地", editTitle: "修改服务阵地",
    help: "指导中心设在区县，街道中心设在乡镇（街道），服务站设在乡镇或村（社区），基地设在其级别对应区划或以下。",
    submit: "保存", cancelEdit: "取消修改", created: "已新建服务阵地", saved: "已保存修改",
    hoursPlaceholder: "如：周一至周五 9:00-17:00",
    id: "阵地编号", copyId: "复制编号", copied: "已复制",
  },
  en: {
    nav: "Positions", title: "Service positions", kind: "Kind", kind_all: "Any kind",
    kind_guidance_centre: "Guidance centre", kind_street_centre: "Street or town centre",
    kind_station: "Village or community station", kind_base: "Service base", baseLevel: "Base level",
    level_district: "District", level_city: "City", level_province: "Province", level_national: "National",
    name: "Name", division: "Division code", address: "Address", hours: "Opening hours", updated: "Updated",
    empty: "No service positions", total: "Total", edit: "Edit", createTitle: "New service position",
    editTitle: "Edit service position",
    help: "A guidance centre sits at a county, a street centre at a township, a station at a township or village, "
      + "a base at its level's division or below.",
    submit: "Save", cancelEdit: "Cancel editing", created: "Service position created", saved: "Changes saved",
    hoursPlaceholder: "e.g. Mon-Fri 9:00-17:00",
    id: "Position id", copyId: "Copy id", copied: "Copied",
  },
});
