"""Reads of requests (a list in a window, one by id, one by token) and mySociety's request updates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import dateparse, timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from wangge.core import clock
from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.replica import use_replica
from wangge.open311 import selectors
from wangge.open311.formats import respond
from wangge.open311.models import Open311Submission
from wangge.open311.views._common import _param, _reader, open311_view

MAX_SPAN = dt.timedelta(days=90)
# Dates a window may name: far enough from year 1 and 9999 that the window's arithmetic cannot overflow.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _moment(request: HttpRequest, name: str) -> dt.datetime | None:
    """A W3C date-time (zone recommended; without one it is the city's local time) or a bare date."""
    raw = _param(request, name)
    if not raw:
        return None
    try:  # well formed but impossible (month 13, 31 February) raises ValueError; year 1 or 9999 overflows
        parsed = dateparse.parse_datetime(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
        if parsed is None:
            day = dateparse.parse_date(raw) if len(raw) == 10 else None
            parsed = dt.datetime.combine(day, dt.time.min) if day is not None else None
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        if parsed is not None and not EARLIEST <= parsed <= LATEST:
            parsed = None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise ValidationFailed(
            _("%(name)s must be a W3C date-time such as 2010-01-01T00:00:00Z"), params={"name": name}, field=name
        )
    return parsed


def window(request: HttpRequest) -> tuple[dt.datetime, dt.datetime]:
    """start_date..end_date, at most 90 days; the most recent 90 days by default."""
    given_start, given_end = _moment(request, "start_date"), _moment(request, "end_date")
    if given_end is not None:
        end = given_end
        start = given_start if given_start is not None else end - MAX_SPAN
    elif given_start is not None:
        start = given_start
        end = min(start + MAX_SPAN, max(clock.now(), start))
    else:
        end = clock.now()
        start = end - MAX_SPAN
    if end < start:
        raise ValidationFailed(_("end_date is before start_date"), field="end_date")
    if end - start > MAX_SPAN:
        raise ValidationFailed(_("start_date to end_date may not span more than 90 days"), field="end_date")
    return start, end


@use_replica()
def _get_requests(request: HttpRequest, fmt: str, jurisdiction: Any) -> HttpResponse:
    account, public = _reader(request)
    qs = selectors.readable(account=account, jurisdiction=jurisdiction)
    ids = _split(_param(request, "service_request_id"))
    if ids:
        qs = qs.filter(code__in=ids[: selectors.MAX_RESULTS])  # overrides every other argument
    else:
        codes = _split(_param(request, "service_code"))
        if codes:
            qs = qs.filter(category__code__in=codes)
        statuses = set(_split(_param(request, "status").lower()))
        if statuses - {"open", "closed"}:
            raise ValidationFailed(_("status must be open or closed"), field="status")
        if statuses == {"open"}:
            qs = qs.filter(state__in=selectors.UNFINISHED_STATES)
        elif statuses == {"closed"}:
            qs = qs.exclude(state__in=selectors.UNFINISHED_STATES)
        start, end = window(request)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
    page = selectors.output_rows(qs.order_by("-created_at", "-id")[: selectors.MAX_RESULTS], public=public)
    rows = [selectors.request_out(d, public=public) for d in page]
    return respond(fmt, "service_requests", rows, item="request")


@require_http_methods(["GET", "HEAD"])
@open311_view
def request_detail(request: HttpRequest, code: str, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    account, public = _reader(request)
    readable = selectors.readable(account=account, jurisdiction=jurisdiction)
    found = selectors.output_rows(readable.filter(code=code).order_by("pk")[:1], public=public)
    demand = found[0] if found else None
    if demand is None:
        raise NotFound(_("service_request_id %(code)s not found"), params={"code": code}, field="service_request_id")
    # Always a list, even of one: clients read service_requests/request[0].
    return respond(fmt, "service_requests", [selectors.request_out(demand, public=public)], item="request")


@require_http_methods(["GET", "HEAD"])
@open311_view
def token(request: HttpRequest, token: str, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    account, _public = _reader(request)
    readable = selectors.readable(account=account, jurisdiction=jurisdiction)
    submission = (
        Open311Submission.objects.filter(token=token, demand__in=readable.values("pk")).select_related("demand").first()
        if token and len(token) <= 64
        else None
    )
    if submission is None:
        raise NotFound(_("token not found"), field="token")
    return respond(
        fmt,
        "service_requests",
        [{"service_request_id": submission.demand.code, "token": submission.token}],
        item="request",
    )


@require_http_methods(["GET", "HEAD"])
@open311_view
@use_replica()
def request_updates(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    """mySociety's extension: what happened to requests between start_date and end_date."""
    account, public = _reader(request)
    start, end = window(request)
    demands = selectors.readable(account=account, jurisdiction=jurisdiction)
    rows = [selectors.update_out(e, public=public) for e in selectors.updates(demands=demands, start=start, end=end)]
    return respond(fmt, "service_request_updates", rows, item="request_update")
