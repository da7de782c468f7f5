"""What every Open311 view shares: the error document, parameters, the api_key and who reads."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from wangge.accounts.api_auth import key_rate_check
from wangge.accounts.models import ApiKey, KeyPermission
from wangge.accounts.services import api_key_authenticate
from wangge.core import ratelimit
from wangge.core.errors import NotFound, PermissionDenied, WanggeError
from wangge.demands.models import Kind, Urgency
from wangge.open311 import selectors
from wangge.open311.formats import FORMATS, error_response

URGENCY_NAMES: dict[str, str] = {Urgency.NORMAL: "一般 Normal", Urgency.URGENT: "紧急 Urgent"}
KIND_NAMES: dict[str, str] = {
    Kind.HELP: "求助 Help",
    Kind.CONSULTATION: "咨询 Consultation",
    Kind.COMPLAINT: "投诉 Complaint",
    Kind.REPORT: "举报 Report",
    Kind.SUGGESTION: "建议 Suggestion",
    Kind.PRAISE: "表扬 Praise",
}


def _status_of(error: WanggeError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, ratelimit.RateLimited):
        return 429
    return 400


def _describe(error: WanggeError) -> str:
    where = f"「{error.field}」" if error.field else ""
    return f"{where}{error.zh} / {error.en}" + (f" (field: {error.field})" if error.field else "")


def open311_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Format check, jurisdiction check, and WanggeError → the spec's error document."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        if fmt not in FORMATS:
            return error_response("xml", 404, [(404, "Bad extension. We support .xml and .json")])
        try:
            jurisdiction = selectors.jurisdiction_for(_param(request, "jurisdiction_id"))
            if jurisdiction is None:
                raise NotFound(_("jurisdiction_id not found"), field="jurisdiction_id")
            return view(request, *args, fmt=fmt, jurisdiction=jurisdiction, **kwargs)
        except WanggeError as error:
            status = _status_of(error)
            response = error_response(fmt, status, [(status, _describe(error))])
            if status == 429:
                response["Retry-After"] = "60"
            return response

    return wrapped


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the body (POST) or the query; empty is the same as absent (the spec says so)."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value in (None, ""):
        value = request.GET.get(name, "")
    return (value or "").strip()


def _key(request: HttpRequest) -> ApiKey | None:
    """The key given as `api_key` (or the X-Api-Key header); 403 for a wrong one or one without "open311"."""
    raw = _param(request, "api_key") or request.headers.get("X-Api-Key", "").strip()
    if not raw:
        return None
    key = api_key_authenticate(raw)
    if key is None:
        raise PermissionDenied(_("api_key is not valid or was revoked"), field="api_key")
    key_rate_check(key)
    if not key.allows(KeyPermission.OPEN311):
        raise PermissionDenied(_("this api_key is not allowed to use Open311"), field="api_key")
    return key


def _reader(request: HttpRequest) -> tuple[Any | None, bool]:
    """(account to scope by, public?) for a GET of requests; 403 when public reads are off and no key came."""
    key = _key(request)
    if key is not None:
        return key.account, False
    if not settings.OPEN311_PUBLIC_READ:
        raise PermissionDenied(_("api_key is required to read requests here"), field="api_key")
    ratelimit.check(request, "open311-read", settings.OPEN311_READ_RATE)
    return None, True
