"""API helpers: one error shape for every route, {code, message, message_en, field}."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from wangge.core.errors import WanggeError


def error_body(code: str, zh: str, en: str, field: str | None = None, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": zh, "message_en": en, "field": field}
    body.update(extra)
    return body


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(WanggeError)
    def _wangge(request: HttpRequest, exc: WanggeError) -> HttpResponse:
        return api.create_response(request, exc.as_dict(), status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        first = exc.errors[0] if exc.errors else {}
        loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "path", "payload")]
        field = ".".join(loc) or None
        msg = str(first.get("msg", "invalid input"))
        return api.create_response(
            request,
            error_body("invalid", f"输入有误：{msg}", f"invalid input: {msg}", field, errors=exc.errors),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request, error_body("unauthenticated", "需要登录或有效的令牌", "authentication required"), status=401
        )

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, error_body("http_error", str(exc), str(exc)), status=exc.status_code)
