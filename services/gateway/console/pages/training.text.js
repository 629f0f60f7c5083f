// The training page (#/training): its words in Chinese and English. Both
// languages have the same keys (tests/unit/test_console_i18n.py checks it).
"use strict";

window.zy.dictionary("tr", {
  zh: {
    nav: "培训", title: "培训课程", help: "县（区）的课程目录供其下属各级组织使用；课程由开设单位维护。培训时长与服务时长分开记录，不计入服务时长。",
    courses: "课程目录", course: "课程", owner: "开设单位", createdAt: "创建时间", none: "暂无课程",
    addCourse: "新增课程", courseTitle: "课程名称", description: "课程简介", save: "保存", saved: "已保存",
    sessions: "培训场次", noSessions: "暂无场次", place: "培训地点", starts: "开始时间", ends: "结束时间",
    attended: "签到人数", addSession: "安排场次", open: "查看", back: "返回课程目录",
    attendance: "培训签到", noAttendance: "暂无签到", volunteer: "志愿者编号或 ID", volunteerNumber: "志愿者编号",
    hours: "培训时长（小时，0 为整场）", hoursCol: "培训时长", record: "登记签到", recordedAt: "登记时间",
    unknownVolunteer: "未找到该志愿者", timesNote: "时间均为北京时间（UTC+8）",
  },
  en: {
    nav: "Training", title: "Training courses", help: "A county's course catalogue is a menu for every organisation below it; the offering office maintains its courses. Training hours are kept apart from service hours and never count as service.",
    courses: "Course catalogue", course: "Course", owner: "Offered by", createdAt: "Created", none: "No courses",
    addCourse: "Add a course", courseTitle: "Course title", description: "Description", save: "Save", saved: "Saved",
    sessions: "Training sessions", noSessions: "No sessions", place: "Place", starts: "Starts", ends: "Ends",
    attended: "Attended", addSession: "Schedule a session", open: "Open", back: "Back to the catalogue",
    attendance: "Attendance", noAttendance: "No attendance yet", volunteer: "Volunteer number or ID", volunteerNumber: "Volunteer no.",
    hours: "Training hours (0: the whole session)", hoursCol: "Training hours", record: "Record attendance", recordedAt: "Recorded",
    unknownVolunteer: "No such volunteer", timesNote: "Times are Beijing time (UTC+8)",
  },
});
