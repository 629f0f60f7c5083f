// My training (training.js) in Chinese and English. Both languages have the
// same keys (tests/unit/test_mobile_i18n.py).

export default {
  zh: {
    title: "我的培训", intro: "参加培训的记录与培训时长。培训时长单独记录，不计入志愿服务时长。",
    total: "培训时长合计", none: "暂无培训记录", more: "更多",
  },
  en: {
    title: "My training", intro: "The training you attended and its hours. Training hours are kept apart and never count as service hours.",
    total: "Training hours in all", none: "No training yet", more: "More",
  },
};
