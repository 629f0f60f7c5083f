"""The hours service's routes for a volunteer's own pages (see
:mod:`services.gateway.me`): the caller's records, totals, objections and
certificates, and the office's queue of objections (READERS in the scope of
the record's division), which resolves them."""

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
