// Check in and out (checkin.js) in Chinese and English. Both languages have
// the same keys (tests/unit/test_mobile_i18n.py).

export default {
  zh: {
    title: "签到签退", code: "签到码", sixDigitsHint: "6位数字", how: "用手机相机扫描负责人出示的二维码，或输入二维码下方的6位数字。",
    fromQr: "已从二维码读取签到码，请选择签到或签退。", checkIn: "签到", checkOut: "签退",
    sixDigits: "请输入6位数字签到码", inDone: "签到成功", outDone: "签退成功", inAt: "签到时间：", outAt: "签退时间：",
  },
  en: {
    title: "Check in and out", code: "Check-in code", sixDigitsHint: "6 digits",
    how: "Scan the leader's QR code with your phone's camera, or type the six digits shown under it.",
    fromQr: "The code was read from the QR code: check in or check out.", checkIn: "Check in", checkOut: "Check out",
    sixDigits: "Type the 6-digit check-in code", inDone: "Checked in", outDone: "Checked out",
    inAt: "Checked in: ", outAt: "Checked out: ",
  },
};
