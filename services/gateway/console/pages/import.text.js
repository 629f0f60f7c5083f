// Bulk import (#/import): its words in Chinese and English. Both
// languages have the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("", {
  zh: {
    importVolunteers: "批量导入志愿者", chooseFile: "选择 CSV 文件", start: "开始导入", imported: "已导入", failedRows: "失败",
    row: "行号", field: "字段", rule: "规则", message: "原因", duplicateRows: "此前已导入（未重复导入）",
    nothingNew: "文件中的行此前均已导入，本次没有新增",
    importHelp: "表头：姓名,身份证号,手机号,区划代码,服务领域（多个领域用 ; 分隔）。正确的行会保存，错误的行在下方列出。", allGood: "全部导入成功",
    importHours: "批量补录时长", template: "下载模板",
    importHoursHelp: "表头：志愿者编号,区划代码,组织名称,服务领域,服务内容,开始时间,结束时间,时长,补录原因,服务阵地编号（选填：本辖区内服务阵地的编号 ID）。阵地编号见“服务阵地”页面，每个阵地下方可复制。时间写作 2026-11-01 09:00（北京时间）；每行作为补录时长进入审核，时长不能超过活动时长。重复上传同一文件不会重复记录。",
  },
  en: {
    importVolunteers: "Import volunteers", chooseFile: "Choose a CSV file", start: "Import",
    imported: "Imported", failedRows: "Failed", row: "Row", field: "Field", rule: "Rule", message: "Reason",
    duplicateRows: "Imported before (not again)", nothingNew: "Every row was imported before; nothing new this time",
    importHelp: "Header: name,id_number,phone,home_division_code,service_fields (fields separated by ;). Good rows are kept; bad rows are listed below.",
    allGood: "Every row was imported", importHours: "Import hour records", template: "Download a template",
    importHoursHelp: "Header: volunteer_number,division_code,organisation_name,service_field,content,session_start,session_end,hours,reason,position_id (optional: the id of a service position in your area). Each position's id is shown, with a copy button, on the Positions page. Times as 2026-11-01 09:00 (China time); each row is recorded as honour hours awaiting review, never more than the session lasted. Uploading the same file again records nothing twice.",
  },
});
