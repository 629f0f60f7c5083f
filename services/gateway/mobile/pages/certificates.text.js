// My certificates (certificates.js) in Chinese and English. Both languages
// have the same keys (tests/unit/test_mobile_i18n.py).

export default {
  zh: {
    title: "志愿服务证明", intro: "按月份申请开具志愿服务证明，证明上的二维码可供他人核验真伪。", from: "起始月份",
    to: "截止月份", toHint: "不填则截止到本月", request: "申请开具", issued: "证明已开具，编号：", mine: "我的证明",
    none: "还没有开具过证明", certificate: "志愿服务证明", download: "下载 PDF", share: "分享核验链接",
    verify: "核验页面", toNow: "至今", issuedOn: "开具日期：", revoked: "已作废",
    includeTraining: "列入参加培训情况", includeAwards: "列入获得表彰情况",
    linesHint: "培训取自活动记录，表彰取自表彰记录，不能手填", training: "参加培训", awards: "获得表彰",
  },
  en: {
    title: "Service certificates", intro: "Ask for a certificate of your service over some months; its QR code lets anyone check it.",
    from: "From month", to: "To month", toHint: "Empty: up to this month", request: "Request a certificate",
    issued: "Certificate issued, number ", mine: "My certificates", none: "No certificate issued yet",
    certificate: "Volunteer service certificate", download: "Download PDF", share: "Share the check link",
    verify: "Check page", toNow: "now", issuedOn: "Issued ", revoked: "Revoked",
    includeTraining: "Include training attended", includeAwards: "Include awards received",
    linesHint: "Training comes from the activity records and awards from the commendation records; they cannot be typed",
    training: "Training", awards: "Awards",
  },
};
