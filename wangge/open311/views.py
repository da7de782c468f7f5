"""Open311 GeoReport v2 endpoints (docs/api.md): discovery, services, requests, tokens, request updates.

Every view answers in the format of its extension, and every failure in the spec's error document
with the HTTP status the spec asks for (404 unknown thing, 403 key, 400 anything else; 429 when a
client goes over its rate). GETs need no key unless the city turned public reads off.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateparse, timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wangge.accounts.api_auth import key_rate_check
from wangge.accounts.models import ApiKey, KeyPermission
from wangge.accounts.services import api_key_authenticate
from wangge.core import clock, ratelimit
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed, WanggeError
from wangge.demands.models import Kind, Urgency
from wangge.open311 import selectors
from wangge.open311.formats import FORMATS, error_response, respond, w3c
from wangge.open311.models import Open311Submission
from wangge.open311.services import open311_submit
from wangge.registry.models import Area, Level

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_SPAN = dt.timedelta(days=90)
MAX_DESCRIPTION = 4000
URGENCY_NAMES: dict[str, str] = {Urgency.NORMAL: "一般 Normal", Urgency.URGENT: "紧急 Urgent"}
KIND_NAMES: dict[str, str] = {
    Kind.HELP: "求助 Help",
    Kind.CONSULTATION: "咨询 Consultation",
    Kind.COMPLAINT: "投诉 Complaint",
    Kind.REPORT: "举报 Report",
    Kind.SUGGESTION: "建议 Suggestion",
    Kind.PRAISE: "表扬 Praise",
}
# FixMyStreet sends this as address_id when the report has no exact place.
NOT_PINPOINTED = "#NOTPINPOINTED#"


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


# --- discovery and services -------------------------------------------------------------------


def _discovery(request: HttpRequest) -> dict[str, Any]:
    base = request.build_absolute_uri(reverse("open311:discovery_json")).rsplit("/", 1)[0]
    return {
        "changeset": settings.OPEN311_CHANGESET,
        "contact": settings.OPEN311_CONTACT,
        "key_service": settings.OPEN311_KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": settings.OPEN311_CHANGESET,
                "type": settings.OPEN311_ENDPOINT_TYPE,
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


@require_http_methods(["GET", "HEAD"])
def discovery_html(request: HttpRequest) -> HttpResponse:
    """The human rendering of discovery that the spec recommends."""
    return render(
        request,
        "open311/discovery.html",
        {"discovery": _discovery(request), "services": selectors.service_categories()},
    )


@require_http_methods(["GET", "HEAD"])
@open311_view
def discovery(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    return respond(fmt, "discovery", _discovery(request))


def _limits_text(category: Any) -> str:
    unit_zh, unit_en = ("个工作日", "working days") if category.resolve_unit == "working_days" else ("小时", "hours")
    return (
        f"受理时限 {category.accept_hours_normal} 小时，办结时限 {category.resolve_value_normal} {unit_zh} / "
        f"accepted within {category.accept_hours_normal} hours, resolved within "
        f"{category.resolve_value_normal} {unit_en}"
    )


def _service_out(category: Any) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.parent.name} / {category.name}. {_limits_text(category)}",
        # Every service has attributes (urgency, kind, grid, title), so clients ask for the definition.
        "metadata": True,
        # Intake is one transaction: the id exists when POST answers ("batch" hands out a token instead).
        "type": "batch" if settings.OPEN311_SERVICE_TYPE == "batch" else "realtime",
        "keywords": f"{category.parent.name},{category.name}",
        "group": category.parent.name,
    }


@require_http_methods(["GET", "HEAD"])
@open311_view
def services(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    rows = [_service_out(c) for c in selectors.service_categories()]
    return respond(fmt, "services", rows, item="service")


def _attributes(category: Any) -> list[dict[str, Any]]:
    return [
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "默认为一般 / normal unless chosen",
            "order": 1,
            "description": "紧急程度 / urgency",
            "values": [{"key": k, "name": v} for k, v in URGENCY_NAMES.items()],
        },
        {
            "variable": True,
            "code": "kind",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "默认为求助 / help unless chosen",
            "order": 2,
            "description": "诉求类型 / kind of demand",
            "values": [{"key": k, "name": v} for k, v in KIND_NAMES.items()],
        },
        {
            "variable": True,
            "code": "grid",
            "datatype": "string",
            "required": False,
            "datatype_description": "微网格二维码上的编码 / the code printed on the micro-grid's QR code",
            "order": 3,
            "description": "所在微网格 / micro-grid",
        },
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": "不超过 200 字 / at most 200 characters",
            "order": 4,
            "description": "标题 / title",
        },
        {
            "variable": False,
            "code": "time_limits",
            "datatype": "text",
            "required": False,
            "datatype_description": None,
            "order": 5,
            "description": _limits_text(category),
        },
    ]


@require_http_methods(["GET", "HEAD"])
@open311_view
def service_definition(request: HttpRequest, code: str, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    category = selectors.service_get(code)
    if category is None:
        raise NotFound(_("service_code %(code)s not found"), params={"code": code}, field="service_code")
    return respond(fmt, "service_definition", {"service_code": category.code, "attributes": _attributes(category)})


# --- requests ---------------------------------------------------------------------------------


def _float(request: HttpRequest, name: str) -> float | None:
    raw = _param(request, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationFailed(_("%(name)s is not a number"), params={"name": name}, field=name) from None


def _attribute_values(request: HttpRequest) -> dict[str, Any]:
    """attribute[code]=v, and attribute[code][]=v1&attribute[code][]=v2 for multivalue lists."""
    values: dict[str, Any] = {}
    for name in request.POST:
        if not name.startswith("attribute[") or not name.endswith("]"):
            continue
        if name.endswith("][]"):
            values[name[len("attribute[") : -3]] = [v for v in request.POST.getlist(name) if v]
        else:
            values[name[len("attribute[") : -1]] = request.POST.get(name, "").strip()
    return values


def _choice(value: str, allowed: dict[str, str], field: str, default: str) -> str:
    if not value:
        return default
    if value not in allowed:
        raise ValidationFailed(
            _("attribute[%(field)s] must be one of %(allowed)s"),
            params={"field": field, "allowed": ", ".join(allowed)},
            field=f"attribute[{field}]",
        )
    return value


def _location_area(address_id: str) -> tuple[Area | None, Area | None]:
    """address_id is an area code of our registry: a micro-grid, or a village/town (grid, area)."""
    if not address_id or address_id == NOT_PINPOINTED:
        return None, None
    found = Area.objects.filter(code=address_id).first()
    if found is None:
        raise ValidationFailed(
            _("address_id %(address_id)s is not an area code here"),
            params={"address_id": address_id},
            field="address_id",
        )
    return (found, None) if found.level == Level.GRID else (None, found)


def _media_urls(request: HttpRequest) -> list[str]:
    urls = [u.strip() for u in request.POST.getlist("media_url") + request.POST.getlist("media_url[]") if u.strip()]
    check = URLValidator(schemes=["http", "https"])
    for url in urls:
        try:
            if len(url) > 500:
                raise DjangoValidationError("too long")
            check(url)
        except DjangoValidationError:
            raise ValidationFailed(_("media_url must be an http(s) URL"), field="media_url") from None
    return urls[:10]


def _reporter_name(first: str, last: str) -> str:
    if first.isascii() and last.isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese order: family name first, no space


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _key(request)
    if key is None:
        if not settings.OPEN311_ANONYMOUS_POST:
            raise PermissionDenied(_("api_key is required to post a request"), field="api_key")
        ratelimit.check(request, "open311-post", settings.OPEN311_ANONYMOUS_RATE)
    code = _param(request, "service_code")
    if not code:
        raise ValidationFailed(_("service_code is required"), field="service_code")
    category = selectors.service_get(code)
    if category is None:
        raise NotFound(_("service_code %(code)s not found"), params={"code": code}, field="service_code")
    lat, lng = _float(request, "lat"), _float(request, "long")
    if (lat is None) != (lng is None):
        raise ValidationFailed(_("lat and long go together"), field="lat")
    address = _param(request, "address_string")
    address_id = _param(request, "address_id")
    attributes = _attribute_values(request)
    grid_code = str(attributes.get("grid") or "")
    if lat is None and not address and (not address_id or address_id == NOT_PINPOINTED) and not grid_code:
        raise ValidationFailed(
            _("a location is required: lat and long, address_string or address_id"),
            field="lat",
        )
    grid, area = _location_area(address_id)
    if grid_code:
        grid = Area.objects.filter(code=grid_code, level=Level.GRID).first()
        if grid is None:
            raise ValidationFailed(
                _("unknown micro-grid %(grid_code)s"), params={"grid_code": grid_code}, field="attribute[grid]"
            )
    description = _param(request, "description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(_("description is longer than 4000 characters"), field="description")
    email = _param(request, "email")
    if email:
        try:
            EmailValidator()(email)
        except DjangoValidationError:
            raise ValidationFailed(_("email is not valid"), field="email") from None
    raw_idem = request.headers.get("Idempotency-Key", "").strip() or str(attributes.get("fixmystreet_id") or "")
    owner = f"key{key.pk}" if key is not None else "anon"
    demand, submission = open311_submit(
        category=category,
        # v2 makes description optional; a demand needs words, so the service and place stand in.
        description=description or f"{category} {address}".strip(),
        key=key,
        urgency=_choice(str(attributes.get("urgency") or ""), URGENCY_NAMES, "urgency", Urgency.NORMAL),
        kind=_choice(str(attributes.get("kind") or ""), KIND_NAMES, "kind", Kind.HELP),
        title=str(attributes.get("title") or "")[:200],
        lat=lat,
        lng=lng,
        address=address,
        grid=grid,
        area=area,
        reporter_name=_reporter_name(_param(request, "first_name"), _param(request, "last_name"))[:50],
        reporter_phone=_param(request, "phone"),
        email=email,
        media_urls=_media_urls(request),
        account_id=_param(request, "account_id"),
        device_id=_param(request, "device_id"),
        attributes=attributes,
        idempotency_key=f"open311:{owner}:{raw_idem}"[:128] if raw_idem else None,
    )
    notice = (
        f"已转{demand.holder_label}，将于 {timezone.localtime(demand.accept_due_at):%Y-%m-%d %H:%M} 前受理 / "
        f"sent to {demand.holder_label}, to be accepted by {w3c(demand.accept_due_at)}"
        if demand.accept_due_at
        else f"已转{demand.holder_label} / sent to {demand.holder_label}"
    )
    row: dict[str, Any]
    if settings.OPEN311_SERVICE_TYPE == "batch":
        row = {"token": submission.token, "service_notice": notice}
    else:
        row = {"service_request_id": demand.code, "service_notice": notice}
    if submission.account_id:
        row["account_id"] = submission.account_id
    return respond(fmt, "service_requests", [row], item="request")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _moment(request: HttpRequest, name: str) -> dt.datetime | None:
    """A W3C date-time (zone recommended; without one it is the city's local time) or a bare date."""
    raw = _param(request, name)
    if not raw:
        return None
    parsed = dateparse.parse_datetime(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
    if parsed is None:
        day = dateparse.parse_date(raw) if len(raw) == 10 else None
        if day is None:
            raise ValidationFailed(
                _("%(name)s must be a W3C date-time such as 2010-01-01T00:00:00Z"),
                params={"name": name},
                field=name,
            )
        parsed = dt.datetime.combine(day, dt.time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
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
            qs = qs.filter(state__in=selectors.OPEN_STATES)
        elif statuses == {"closed"}:
            qs = qs.exclude(state__in=selectors.OPEN_STATES)
        start, end = window(request)
        qs = qs.filter(created_at__gte=start, created_at__lte=end)
    rows = [selectors.request_out(d, public=public) for d in qs.order_by("-created_at", "-id")[: selectors.MAX_RESULTS]]
    return respond(fmt, "service_requests", rows, item="request")


@csrf_exempt  # server-to-server form posts authenticated by api_key; no browser session is involved
@require_http_methods(["GET", "HEAD", "POST"])
@open311_view
def requests_(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt, jurisdiction)


@require_http_methods(["GET", "HEAD"])
@open311_view
def request_detail(request: HttpRequest, code: str, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    account, public = _reader(request)
    demand = selectors.readable(account=account, jurisdiction=jurisdiction).filter(code=code).first()
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
def request_updates(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    """mySociety's extension: what happened to requests between start_date and end_date."""
    account, public = _reader(request)
    start, end = window(request)
    demands = selectors.readable(account=account, jurisdiction=jurisdiction)
    rows = [selectors.update_out(e, public=public) for e in selectors.updates(demands=demands, start=start, end=end)]
    return respond(fmt, "service_request_updates", rows, item="request_update")
