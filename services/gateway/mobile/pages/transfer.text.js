// Moving home (transfer.js) in Chinese and English. Both languages have the
// same keys (tests/unit/test_mobile_i18n.py). The consent text itself is not
// here: it is the service's, shown exactly as the request records it.

export default {
  zh: {
    title: "记录转移接续", intro: "搬到新的居住地后，可以申请把志愿者记录转移到新居住地，由新居住地志愿服务管理部门审核接收。",
    currentHome: "当前居住地", newHome: "新居住地", newHomeHint: "请逐级选择到新居住地的乡镇（街道）或村（社区）",
    moves: "转移后随您转到新居住地：", movesWhat: "注册信息和账号、消息、星级评定，以及尚未开始的活动报名。",
    stays: "转移后保留不变：", staysWhat: "已有服务时长仍记录在原服务地；已开具的服务证明继续有效，可凭编号查验。",
    consent: "本人同意", consentHint: "勾选即表示同意以下文字，提交后与申请一并保存：", submit: "提交转移申请",
    requested: "转移申请已提交，请等待新居住地管理部门审核。", cancelled: "转移申请已撤回。",
    pendingOne: "您有一份待审核的转移申请；如需改投其他地方，请先撤回。", mine: "我的转移申请", none: "暂无转移申请",
    from: "原居住地", to: "新居住地", requestedAt: "申请时间：", acceptedAt: "接收时间：", refusedAt: "拒绝时间：",
    cancelledAt: "撤回时间：", reason: "拒绝原因：", cancel: "撤回申请", confirmCancel: "确定撤回这份转移申请吗？",
    confirmYes: "确定撤回", confirmNo: "不撤回", movedHint: "您的记录已转移至新居住地，请重新登录以使用新居住地的服务。", signInAgain: "重新登录",
    TRANSFER_STATUS_PENDING: "待审核", TRANSFER_STATUS_ACCEPTED: "已接收", TRANSFER_STATUS_REFUSED: "已拒绝",
    TRANSFER_STATUS_CANCELLED: "已撤回",
  },
  en: {
    title: "Moving home", intro: "When you move, ask for your volunteer record to move to your new home; "
      + "the volunteer office there reviews and takes it over.",
    currentHome: "Current home", newHome: "New home", newHomeHint: "Choose level by level down to the new township or village",
    moves: "What moves with you:", movesWhat: "your registration and account, messages, star rating and sign-ups for sessions not yet held.",
    stays: "What stays:", staysWhat: "past service hours stay recorded where you served; certificates already issued stay valid "
      + "and can still be verified by their number.",
    consent: "Consent", consentHint: "Ticking the box agrees to this text, which is kept with the request:",
    submit: "Ask to transfer", requested: "Transfer requested: the new home's office will review it.",
    cancelled: "Transfer request withdrawn.",
    pendingOne: "You have a transfer request awaiting review; to ask for another place, withdraw it first.",
    mine: "My transfer requests", none: "No transfer requests yet", from: "From", to: "To",
    requestedAt: "Requested: ", acceptedAt: "Accepted: ", refusedAt: "Refused: ", cancelledAt: "Withdrawn: ",
    reason: "Reason: ", cancel: "Withdraw", confirmCancel: "Withdraw this transfer request?", confirmYes: "Yes, withdraw",
    confirmNo: "Keep it", movedHint: "Your record has moved to your new home: sign in again to use its services.",
    signInAgain: "Sign in again",
    TRANSFER_STATUS_PENDING: "Awaiting review", TRANSFER_STATUS_ACCEPTED: "Accepted", TRANSFER_STATUS_REFUSED: "Refused",
    TRANSFER_STATUS_CANCELLED: "Withdrawn",
  },
};
