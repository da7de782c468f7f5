"""Turn a person-readable error escaping a page view into a page with the right status."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.html import escape

from wangge.core.errors import WanggeError
from wangge.core.text import nul_field, nul_refused


class WanggeErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, WanggeError):
            return render(request, "core/error.html", {"error": exception}, status=exception.status)
        return None


class RefuseNulMiddleware:
    """A NUL character anywhere in what a request sends is refused here, with the field named (400).

    The one place for it (`core.text.nul_field`): no view, form or API schema need remember it.
    The answer has the shape the caller reads: Open311's error document under /open311/, the API's
    JSON shape for /api/ and other `.json` routes, the error page otherwise.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_field(request)
        if field is None:
            return self.get_response(request)
        error = nul_refused(field)
        path = request.path.replace("\x00", "")
        if path.startswith("/open311/") and path.endswith(".json"):  # GeoReport v2's error list
            rows = [{"code": 400, "description": str(error)}]
            return JsonResponse(rows, status=400, safe=False, json_dumps_params={"ensure_ascii": False})
        if path.startswith("/open311/"):
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<errors><error><code>400</code>'
                f"<description>{escape(str(error))}</description></error></errors>"
            )
            return HttpResponse(body, status=400, content_type="text/xml")
        if path.startswith("/api/") or path.endswith(".json"):
            return JsonResponse(error.as_dict(), status=400, json_dumps_params={"ensure_ascii": False})
        return render(request, "core/error.html", {"error": error}, status=error.status)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the person chose otherwise with the language switch (its cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language, so an office PC set up
    in English, or a headless test browser, would show English to Chinese officials.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


def tile_origin(url: str) -> str:
    """The origin of a Leaflet tile URL template for img-src ("https://{s}.tile.example/{z}/…" →
    "https://*.tile.example"); "" when there is no tile server or it is this site."""
    parts = urlsplit(url.replace("{s}", "*"))
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy() -> str:
    """settings.WANGGE_CSP as a header value; the map's tile server is added to img-src."""
    directives = {name: list(sources) for name, sources in settings.WANGGE_CSP.items()}
    origin = tile_origin(getattr(settings, "MAP_TILE_URL", "") or "")
    if origin:
        directives.setdefault("img-src", ["'self'"]).append(origin)
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy on every response (docs/security.md): scripts only from this
    site's own files, so a name that slipped into a page as HTML cannot run. A view that set its own
    header keeps it. WANGGE_CSP_REPORT_ONLY sends it as Content-Security-Policy-Report-Only instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        name = "Content-Security-Policy-Report-Only" if settings.WANGGE_CSP_REPORT_ONLY else "Content-Security-Policy"
        if "Content-Security-Policy" not in response and name not in response:
            response[name] = content_security_policy()
        return response
