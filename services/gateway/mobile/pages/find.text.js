// Find and join (find.js) in Chinese and English. Both languages have the
// same keys (tests/unit/test_mobile_i18n.py). {n}, {c}: numbers filled in.

export default {
  zh: {
    title: "找活动", filters: "筛选", field: "服务领域", anyField: "全部领域", date: "活动日期", near: "离我近",
    nearHint: "选择乡镇（街道），离它近的活动排在前面", noProjects: "暂时没有向您开放招募的活动",
    emergency: "应急招募", approval: "报名需审核", org: "发布组织", place: "服务地点", recruit: "招募截止",
    minAge: "最低年龄", sessions: "活动场次", places: "已报名 {c} / 名额 {n}", waiting: "候补 {n} 人",
    signUp: "报名", joinWaitlist: "报名候补", withdraw: "取消报名", withdrawn: "已取消报名",
    position: "候补第 {n} 位", nowConfirmed: "报名成功", nowPending: "已报名，等待负责人审核",
    nowWaiting: "名额已满，您在候补第 {n} 位", mySignUps: "我的报名", noSignUps: "您还没有报名任何活动",
    findMore: "去找活动", project: "活动", pending: "您的注册正在等待所在地志愿服务组织审核，审核通过后即可报名。",
    SIGN_UP_STATUS_PENDING: "待审核", SIGN_UP_STATUS_CONFIRMED: "已报名", SIGN_UP_STATUS_WAITLISTED: "候补中",
    SIGN_UP_STATUS_WITHDRAWN: "已取消", SIGN_UP_STATUS_REJECTED: "未通过",
  },
  en: {
    title: "Find a project", filters: "Filters", field: "Service field", anyField: "All fields", date: "Date",
    near: "Near", nearHint: "Choose a township: projects closest to it come first",
    noProjects: "No project is recruiting for you right now", emergency: "Emergency", approval: "Leader approves",
    org: "Organiser", place: "Place", recruit: "Recruiting until", minAge: "Minimum age",
    sessions: "Sessions", places: "{c} of {n} places taken", waiting: "{n} waiting", signUp: "Sign up",
    joinWaitlist: "Join the waitlist", withdraw: "Withdraw", withdrawn: "Withdrawn", position: "No. {n} on the waitlist",
    nowConfirmed: "You are signed up", nowPending: "Signed up; the leader will confirm",
    nowWaiting: "The session is full: you are No. {n} on the waitlist", mySignUps: "My sign-ups",
    noSignUps: "You have not signed up for anything yet", findMore: "Find projects", project: "Project",
    pending: "Your registration awaits verification by your office; once verified you can sign up.",
    SIGN_UP_STATUS_PENDING: "Awaiting the leader", SIGN_UP_STATUS_CONFIRMED: "Signed up",
    SIGN_UP_STATUS_WAITLISTED: "Waitlisted", SIGN_UP_STATUS_WITHDRAWN: "Withdrawn", SIGN_UP_STATUS_REJECTED: "Not accepted",
  },
};
