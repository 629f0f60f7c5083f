// My notifications (inbox.js) in Chinese and English. Both languages have the
// same keys (tests/unit/test_mobile_i18n.py). {n}: a number filled in.

export default {
  zh: {
    title: "消息", unreadOf: "{n} 条未读", allRead: "全部已读", onlyUnread: "只看未读", showAll: "全部消息",
    none: "暂无消息", noUnread: "没有未读消息", markRead: "标为已读", unread: "未读",
  },
  en: {
    title: "Inbox", unreadOf: "{n} unread", allRead: "Mark all read", onlyUnread: "Unread only", showAll: "All messages",
    none: "No messages yet", noUnread: "No unread messages", markRead: "Mark read", unread: "Unread",
  },
};
