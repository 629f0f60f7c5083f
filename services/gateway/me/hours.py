"""The hours service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`): the caller's records (with their evaluations),
totals, objections, complaints (and its reply to one) and certificates; and
the office's side of the same: the queue of objections (READERS in the
scope of the record's division), which resolves them, a record's
evaluation, the complaints queue, where complaints are filed and decided,
and the seal image certificates carry."""

from __future__ import annotations

from services.gateway.transcode import Route

H = "hours"

ROUTES: list[Route] = [
    Route(
        "GET",
        "/me/records",
        H,
        "ListMyRecords",
        "My hour records / 我的时长记录",
        "me",
    ),
    Route(
        "GET",
        "/me/totals",
        H,
        "GetMyTotals",
        "My hours: this year, overall, pending, time bank / 我的时长",
        "me",
    ),
    Route(
        "POST",
        "/me/records/{record_id}/objections",
        H,
        "FileObjection",
        "Object to one of my records / 对我的时长记录提出异议",
        "me",
        status_code=201,
    ),
    Route(
        "GET",
        "/me/objections",
        H,
        "ListMyObjections",
        "My objections and their answers / 我的异议",
        "me",
    ),
    Route(
        "GET",
        "/me/certificates",
        H,
        "ListMyCertificates",
        "My certificates / 我的证明",
        "me",
    ),
    Route(
        "POST",
        "/me/certificates",
        H,
        "RequestMyCertificate",
        "Request a certificate of my hours / 申请时长证明",
        "me",
        status_code=201,
    ),
    Route(
        "GET",
        "/me/certificates/{number}/pdf",
        H,
        "GetMyCertificatePdf",
        "My certificate as PDF / 下载我的证明",
        "me",
        download=("pdf", "application/pdf"),
    ),
    Route(
        "GET",
        "/me/complaints",
        H,
        "ListMyComplaints",
        "Complaints about me, with my replies and the outcomes / 关于我的投诉",
        "me",
    ),
    Route(
        "POST",
        "/me/complaints/{id}/reply",
        H,
        "ReplyToComplaint",
        "Reply to a complaint about me / 回复投诉",
        "me",
    ),
    Route(
        "POST",
        "/hours/records/{record_id}/evaluation",
        H,
        "EvaluateRecord",
        "Evaluate an approved record, score 1-5 / 评价服务质量",
        "hours",
    ),
    Route(
        "GET",
        "/complaints",
        H,
        "ListComplaints",
        "Complaints kept in scope, oldest first / 投诉",
        "hours",
    ),
    Route(
        "POST",
        "/complaints",
        H,
        "FileComplaint",
        "Record a complaint about a volunteer / 登记投诉",
        "hours",
        status_code=201,
    ),
    Route(
        "POST",
        "/complaints/{id}/decide",
        H,
        "DecideComplaint",
        "Decide a complaint: upheld or dismissed / 处理投诉",
        "hours",
    ),
    Route(
        "POST",
        "/hours/seals",
        H,
        "UploadSeal",
        "Upload the seal image certificates carry (PNG/JPEG, base64) / 上传印章",
        "hours",
    ),
    Route(
        "GET",
        "/hours/seals",
        H,
        "GetSeal",
        "The seal image kept for a node or organisation / 查看印章",
        "hours",
    ),
    Route(
        "GET",
        "/objections",
        H,
        "ListObjections",
        "Objections to records in scope, oldest first / 时长异议",
        "hours",
    ),
    Route(
        "POST",
        "/objections/{id}/resolve",
        H,
        "ResolveObjection",
        "Resolve an objection: corrected or dismissed / 办理异议",
        "hours",
    ),
]
