"""A posted service request: its fields checked the spec's way, then filed through `open311_submit`.

`requests_` serves both methods of requests.{fmt} (one URL in the spec); a GET is handed to `requests_read`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from wangge.core import ratelimit
from wangge.core.errors import NotFound, PermissionDenied, ValidationFailed
from wangge.demands.models import Kind, Urgency
from wangge.open311 import selectors
from wangge.open311.formats import respond, w3c
from wangge.open311.services import open311_submit
from wangge.open311.views._common import KIND_NAMES, URGENCY_NAMES, _key, _param, open311_view
from wangge.open311.views.requests_read import _get_requests
from wangge.registry.models import Area, Level

MAX_DESCRIPTION = 4000
# FixMyStreet sends this as address_id when the report has no exact place.
NOT_PINPOINTED = "#NOTPINPOINTED#"


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


@csrf_exempt  # server-to-server form posts authenticated by api_key; no browser session is involved
@require_http_methods(["GET", "HEAD", "POST"])
@open311_view
def requests_(request: HttpRequest, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    return _get_requests(request, fmt, jurisdiction)
