"""Routes of the recycling service (爱为宝): bins and their status, collection
events, donation drives and distributions, residents' pickup bookings (see
:mod:`services.gateway.transcode`). Enums by their proto names, e.g.
``"BIN_STATUS_FULL"``. Its rollup is ``/api/v1/rollups/recycling``."""

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.transcode import Route, register

router = APIRouter(prefix="/api/v1/recycling")

R, TAG = "recycling", "recycling"
ROUTES = [
    Route("POST", "/bins", R, "CreateBin", "Place a bin / 投放回收箱", TAG,
          status_code=201),
    Route("GET", "/bins", R, "ListBins", "Bins / 回收箱列表", TAG),
    Route("GET", "/bins/{id}", R, "GetBin", "A bin and its history / 回收箱详情",
          TAG),
    Route("POST", "/bins/{id}/status", R, "ChangeBinStatus",
          "Change a bin's status / 变更回收箱状态", TAG),
    Route("POST", "/collections", R, "RecordCollection",
          "Record a collection event / 登记回收活动", TAG, status_code=201),
    Route("GET", "/collections", R, "ListCollections", "Collections / 回收活动",
          TAG),
    Route("GET", "/collections/{id}", R, "GetCollection",
          "A collection / 回收活动详情", TAG),
    Route("POST", "/drives", R, "RecordDrive", "Record a donation drive / 登记捐赠活动",
          TAG, status_code=201),
    Route("GET", "/drives", R, "ListDrives", "Donation drives / 捐赠活动", TAG),
    Route("GET", "/drives/{id}", R, "GetDrive",
          "A drive and its distributions / 捐赠活动详情", TAG),
    Route("POST", "/drives/{drive_id}/distributions", R, "RecordDistribution",
          "Record a distribution / 登记物资发放", TAG, status_code=201),
    Route("POST", "/bookings", R, "CreateBooking",
          "Book a pickup (idempotent per request_id) / 预约上门回收", TAG,
          status_code=201),
    Route("GET", "/bookings", R, "ListBookings", "Pickup bookings / 预约列表", TAG),
    Route("POST", "/bookings/{id}/assign", R, "AssignBooking",
          "Assign to a team / 派单", TAG),
    Route("POST", "/bookings/{id}/collect", R, "CollectBooking",
          "Record the pickup / 登记回收", TAG),
    Route("POST", "/bookings/{id}/cancel", R, "CancelBooking",
          "Cancel / 取消预约", TAG),
]  # fmt: skip

register(router, ROUTES)
