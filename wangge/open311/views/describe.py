"""Discovery and the services (categories) a client may file requests under, with their attributes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from wangge.core.errors import NotFound
from wangge.core.replica import use_replica
from wangge.open311 import selectors
from wangge.open311.formats import respond
from wangge.open311.views._common import KIND_NAMES, URGENCY_NAMES, open311_view

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


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
@use_replica()
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
@use_replica()
def service_definition(request: HttpRequest, code: str, *, fmt: str, jurisdiction: Any) -> HttpResponse:
    category = selectors.service_get(code)
    if category is None:
        raise NotFound(_("service_code %(code)s not found"), params={"code": code}, field="service_code")
    return respond(fmt, "service_definition", {"service_code": category.code, "attributes": _attributes(category)})
