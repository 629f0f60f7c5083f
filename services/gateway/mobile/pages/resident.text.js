// For a resident (resident.js) in Chinese and English: 爱为宝 pickups and the
// public notices of award rounds. Both languages have the same keys
// (tests/unit/test_mobile_i18n.py). {n}, {d}: values filled in.

export default {
  zh: {
    bookings: "我的回收预约", intro: "爱为宝旧衣物上门回收：预约后由回收服务队上门收取。", book: "预约上门回收",
    noBookings: "暂无预约", newTitle: "预约上门回收", contactName: "联系人", contactPhone: "联系电话",
    address: "上门地址", addressHint: "地址加密保存，仅显示部分", windowStart: "上门时间（开始）",
    windowEnd: "上门时间（结束）", windowHint: "北京时间，7 天内的时段", items: "回收物品", itemsHint: "例如：旧衣物两袋、旧书一箱",
    estimate: "预估重量（千克）", submit: "提交预约", booked: "预约已提交，请留意回收服务队联系。", window: "上门时段：",
    estimated: "预估：{n} 千克", collectedKg: "回收重量：{n} 千克", collectedOn: "回收日期：", team: "服务队：",
    cancelled: "已取消", cancelReason: "原因：", kg: "{n} 千克",
    BOOKING_STATUS_REQUESTED: "已预约", BOOKING_STATUS_ASSIGNED: "已派单", BOOKING_STATUS_COLLECTED: "已回收",
    BOOKING_STATUS_CANCELLED: "已取消",
    notices: "评选公示", noticesIntro: "本地区志愿服务评选的公示，公示期内可以实名提出异议。", noRounds: "暂无评选活动",
    ROUND_STATUS_OPEN: "推荐中", ROUND_STATUS_NOTICE: "公示中", ROUND_STATUS_FINALIZED: "已表彰",
    noticeUntil: "公示截止：{d}", noEntries: "当前没有公示中的推荐", openNotice: "查看公示",
    individual: "个人", collective: "集体", project: "项目", station: "站点", unit: "推荐单位：",
    object: "提出异议", objection: "异议内容", objectionHint: "请写明事实和依据，将由评选单位核实",
    sendObjection: "提交异议", objectionSent: "异议已提交，评选单位将核实处理。", toNotices: "查看评选公示",
  },
  en: {
    bookings: "My pickups", intro: "爱为宝 used-clothing pickups: book one and a recycling team comes to you.",
    book: "Book a pickup", noBookings: "No bookings yet", newTitle: "Book a pickup", contactName: "Contact name",
    contactPhone: "Contact phone", address: "Pickup address", addressHint: "Stored encrypted, shown only in part",
    windowStart: "Pickup from", windowEnd: "Pickup until", windowHint: "China time, a slot within 7 days",
    items: "Items", itemsHint: "E.g. two bags of clothes, a box of books", estimate: "Estimated weight (kg)",
    submit: "Book the pickup", booked: "Booked: the recycling team will be in touch.", window: "Pickup: ",
    estimated: "Estimated: {n} kg", collectedKg: "Collected: {n} kg", collectedOn: "Collected on: ", team: "Team: ",
    cancelled: "Cancelled", cancelReason: "Reason: ", kg: "{n} kg",
    BOOKING_STATUS_REQUESTED: "Requested", BOOKING_STATUS_ASSIGNED: "Assigned", BOOKING_STATUS_COLLECTED: "Collected",
    BOOKING_STATUS_CANCELLED: "Cancelled",
    notices: "Award notices", noticesIntro: "Public notices of award rounds in your area: you may object while one runs.",
    noRounds: "No award rounds yet", ROUND_STATUS_OPEN: "Taking nominations", ROUND_STATUS_NOTICE: "On public notice",
    ROUND_STATUS_FINALIZED: "Awarded", noticeUntil: "Notice until {d}", noEntries: "Nothing is on public notice now",
    openNotice: "See the notice", individual: "Individual", collective: "Collective", project: "Project",
    station: "Station", unit: "Nominated by: ", object: "Object", objection: "Your objection",
    objectionHint: "State the facts and your grounds; the round's office will check them",
    sendObjection: "Send the objection", objectionSent: "Objection sent: the round's office will check it.",
    toNotices: "See award notices",
  },
};
