"""The worker's pass that brings residents' WeChat photos into their demands.

A photo sent to the official account is only a media id (WeChat keeps the file three days) and a PicUrl.
The callback must answer within five seconds, so it only records them (`WeChatReport`); this pass
fetches the file later (`/cgi-bin/media/get`, else the PicUrl), cleans it like any upload (images only,
size-capped, EXIF stripped) and attaches it to the demand through `demand_photos_attach`.

Each report is tried at most WECHAT_PHOTO_MAX_ATTEMPTS times, waiting longer after each failure
(1, 2, 4 … minutes); a failure that asking again cannot cure (an expired media id, a file that is no
image) and a report older than WeChat's three days end it as "failed" with the reason, shown in the
admin. The network call happens outside any transaction; claiming and attaching are conditional
updates on the state, so two workers never attach the same photo twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q

from wangge.core import clock
from wangge.core.errors import WanggeError
from wangge.core.photos import clean_photo
from wangge.demands.services import demand_photos_attach
from wangge.notifications.backends.wechat_mp import Media, media_get, picture_get
from wangge.wechat.models import PhotoState, WeChatReport

log = logging.getLogger("wangge.wechat")

# WeChat keeps a temporary media file three days.
MEDIA_DAYS = 3
MAX_ATTEMPTS = 6
BATCH = 20
NOTE = "群众通过微信公众号发送的照片"


def _max_attempts() -> int:
    return int(getattr(settings, "WECHAT_PHOTO_MAX_ATTEMPTS", MAX_ATTEMPTS))


def _due(now: dt.datetime) -> Any:
    """Pending reports whose wait after the last failure is over (2^(attempts-1) minutes)."""
    return WeChatReport.objects.filter(photo_state=PhotoState.PENDING).filter(
        Q(photo_tried_at__isnull=True) | Q(photo_tried_at__lte=now - dt.timedelta(minutes=1))
    )


def _fetch(report: WeChatReport) -> Media:
    limit = int(getattr(settings, "UPLOAD_MAX_IMAGE_BYTES", 10 * 1024 * 1024))
    media = Media(None, error="no media id or picture URL", permanent=True)
    if report.photo_media_id:
        media = media_get(report.photo_media_id, limit=limit)
    if media.data is None and report.photo_url and (media.permanent or not report.photo_media_id):
        media = picture_get(report.photo_url, limit=limit)
    return media


def _claim(report: WeChatReport, now: dt.datetime) -> bool:
    """Take the report for this try: one worker per report at a time (the try time is the claim)."""
    return bool(
        WeChatReport.objects.filter(
            pk=report.pk, photo_state=PhotoState.PENDING, photo_tried_at=report.photo_tried_at
        ).update(photo_tried_at=now, photo_attempts=report.photo_attempts + 1)
    )


def _fail(report: WeChatReport, error: str, *, final: bool) -> None:
    values: dict[str, Any] = {"photo_error": error[:300]}
    if final:
        values["photo_state"] = PhotoState.FAILED
    WeChatReport.objects.filter(pk=report.pk, photo_state=PhotoState.PENDING).update(**values)
    log.warning("wechat photo of demand %s: %s%s", report.demand_id, error, " (given up)" if final else "")


def _attach(report: WeChatReport, media: Media) -> bool:
    """Clean and attach the file once; False when it is no acceptable image (the reason is kept)."""
    try:
        photo = clean_photo(ContentFile(media.data or b"", name="wechat.jpg"))
    except WanggeError as exc:
        _fail(report, f"not an acceptable photo: {exc.en}", final=True)
        return False
    with transaction.atomic():
        done = WeChatReport.objects.filter(pk=report.pk, photo_state=PhotoState.PENDING).update(
            photo_state=PhotoState.FETCHED, photo_error=""
        )
        if done:
            demand_photos_attach(demand=report.demand, photos=[photo], note=NOTE, by_resident=True)
    return bool(done)


def wechat_photos_fetch(*, now: dt.datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """One pass of the worker: fetch the photos that are due; returns counts by outcome."""
    now = now or clock.now()
    counts = {"fetched": 0, "failed": 0, "retry": 0}
    expired_before = now - dt.timedelta(days=MEDIA_DAYS)
    for report in _due(now).select_related("demand").order_by(F("photo_tried_at").asc(nulls_first=True), "id")[:batch]:
        wait = dt.timedelta(minutes=2 ** max(report.photo_attempts - 1, 0))
        if report.photo_tried_at is not None and report.photo_tried_at + wait > now:
            continue
        if report.created_at < expired_before:
            _fail(report, "WeChat keeps a photo three days; this one was not fetched in time", final=True)
            counts["failed"] += 1
            continue
        if not _claim(report, now):
            continue
        report.photo_attempts += 1
        media = _fetch(report)
        if media.data is not None:
            if _attach(report, media):
                counts["fetched"] += 1
            else:
                counts["failed"] += 1
            continue
        final = media.permanent or report.photo_attempts >= _max_attempts()
        _fail(report, media.error, final=final)
        counts["failed" if final else "retry"] += 1
    return counts


def wechat_photos_pass() -> None:
    """The worker hook (WANGGE_WORKER_HOOKS)."""
    counts = wechat_photos_fetch()
    if any(counts.values()):
        log.info("wechat photos: %s", counts)
