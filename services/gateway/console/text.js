// The console shell's words (title bar, login, access denied, navigation)
// in Chinese and English; each page adds its own in pages/<page>.text.js.
// Both languages have the same keys (tests/unit/test_console_i18n.py).
"use strict";

window.zy.dictionary("", {
  zh: {
    title: "志愿服务管理平台", logout: "退出", login: "登录", username: "账号", password: "密码", expired: "登录已过期，请重新登录",
    badLogin: "账号或密码错误", denied: "无权访问", deniedText: "该区划不在您的管辖范围内。", back: "返回我的看板", loading: "加载中…",
    failed: "加载失败", lang: "English", dashboard: "数据看板", hoursQueue: "时长审核", importNav: "批量导入",
    noticeNav: "评选公示", menu: "菜单",
  },
  en: {
    title: "Zhiyuan volunteer service", logout: "Log out", login: "Log in", username: "Username",
    password: "Password", expired: "Your session expired; please log in again",
    badLogin: "Wrong username or password", denied: "Access denied",
    deniedText: "This division lies outside your jurisdiction.", back: "Back to my dashboard",
    loading: "Loading…", failed: "Could not load", lang: "中文", dashboard: "Dashboard",
    hoursQueue: "Hours review", importNav: "Import", noticeNav: "Public notices",
    menu: "Menu",
  },
});
