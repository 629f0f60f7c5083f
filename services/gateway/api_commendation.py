"""Routes of the commendation service: star ratings, honours, bars, award
rounds, nominations with their review chain, public notice and objections
(see :mod:`services.gateway.transcode`). Enums by their proto names, e.g.
``"DECISION_APPROVE"``."""

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.transcode import Route, register

router = APIRouter(prefix="/api/v1/commendation")

C = "commendation"
STARS, ROUNDS, NOMS = "stars", "award rounds", "nominations"
ROUTES = [
    Route("GET", "/star-requests", C, "ListStarRequests",
          "Star-rating requests / 星级评定申请", STARS),
    Route("POST", "/star-requests/{id}/approve", C, "ApproveStarRequest",
          "Approve a star rating / 批准星级", STARS),
    Route("POST", "/star-requests/{id}/reject", C, "RejectStarRequest",
          "Reject a star rating / 驳回星级申请", STARS),
    Route("GET", "/volunteers/{volunteer_id}/stars", C, "GetVolunteerStars",
          "A volunteer's stars / 志愿者星级", STARS),
    Route("GET", "/honours", C, "ListHonours",
          "Medals and long-service honour roll / 荣誉榜", STARS),
    Route("POST", "/bars", C, "BarVolunteer",
          "Bar a volunteer for falsified hours / 虚报时长禁评", STARS, status_code=201),
    Route("GET", "/bars", C, "ListBars", "Bars / 禁评名单", STARS),
    Route("POST", "/rounds", C, "OpenRound",
          "Open an award round / 发起评选", ROUNDS, status_code=201),
    Route("GET", "/rounds", C, "ListRounds", "Award rounds / 评选活动", ROUNDS),
    Route("GET", "/rounds/{id}", C, "GetRound", "An award round / 评选详情", ROUNDS),
    Route("POST", "/rounds/{round_id}/notice", C, "StartNotice",
          "Start the public notice / 开始公示", ROUNDS),
    Route("POST", "/rounds/{round_id}/finalize", C, "FinalizeRound",
          "Award after the notice / 公示期满后表彰", ROUNDS),
    Route("POST", "/nominations", C, "Nominate",
          "Nominate / 推荐", NOMS, status_code=201),
    Route("GET", "/nominations", C, "ListNominations",
          "Nominations and the review queue / 推荐与审核队列", NOMS),
    Route("GET", "/nominations/{id}", C, "GetNomination",
          "A nomination / 推荐详情", NOMS),
    Route("POST", "/nominations/{id}/review", C, "ReviewNomination",
          "Approve, reject or return / 审核（通过、不通过、退回）", NOMS),
    Route("POST", "/nominations/{id}/resubmit", C, "ResubmitNomination",
          "Resubmit a returned nomination / 重新提交", NOMS),
    Route("POST", "/nominations/{nomination_id}/conflicts", C, "DeclareConflict",
          "Declare a conflict and step aside / 声明回避", NOMS),
    Route("POST", "/nominations/{nomination_id}/objections", C, "FileObjection",
          "Object during the public notice / 公示异议", NOMS, status_code=201),
    Route("POST", "/objections/{id}/resolve", C, "ResolveObjection",
          "Resolve an objection / 处理异议", NOMS),
    Route("GET", "/rounds/{round_id}/notice", C, "ListNotice",
          "The public notice of a round / 评选公示", ROUNDS),
]  # fmt: skip

register(router, ROUTES)
