// The division picker's words (divisions.js) in Chinese and English. Both
// languages have the same keys (tests/unit/test_console_i18n.py).
"use strict";

window.zy.dictionary("div", {
  zh: {
    province: "省", city: "市", county: "县（区）", township: "乡镇（街道）", village: "村（社区）", division: "区划",
    any_province: "— 选择省 —", any_city: "— 选择市 —", any_county: "— 选择县（区）—",
    any_township: "— 选择乡镇（街道）—", any_village: "— 选择村（社区）—", any_division: "— 选择区划 —",
  },
  en: {
    province: "Province", city: "City", county: "County", township: "Township", village: "Village",
    division: "Division", any_province: "— province —", any_city: "— city —", any_county: "— county —",
    any_township: "— township —", any_village: "— village —", any_division: "— division —",
  },
});
