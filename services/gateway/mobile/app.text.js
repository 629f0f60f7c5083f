// The phone app's shell words (header, tab bar, sign-in, the messages every
// page shares) in Chinese and English. Each page adds its own in
// pages/<page>.text.js. Both languages have the same keys
// (tests/unit/test_mobile_i18n.py).

export default {
  zh: {
    title: "志愿服务", lang: "English", tabFind: "找活动", tabCheckIn: "签到", tabService: "我的服务", tabMe: "我的",
    tabResident: "社区",
    loading: "加载中…", failed: "加载失败", offline: "网络连接失败，请稍后重试",
    tooMany: "操作过于频繁，请稍后再试", hoursUnit: "小时", none: "暂无", back: "返回", save: "提交",
    cancel: "取消", more: "加载更多", inbox: "消息", inboxBadge: "{n} 条未读消息",
  },
  en: {
    title: "Volunteering", lang: "中文", tabFind: "Find", tabCheckIn: "Check in", tabService: "My service", tabMe: "Me",
    tabResident: "Community",
    loading: "Loading…", failed: "Could not load", offline: "No connection; please try again",
    tooMany: "Too many attempts; please wait a moment", hoursUnit: "h", none: "None yet", back: "Back", save: "Submit",
    cancel: "Cancel", more: "Load more", inbox: "Inbox", inboxBadge: "{n} unread messages",
  },
};
