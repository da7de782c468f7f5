"""API helpers: one error shape for every route, {code, message, message_en, field}; one cursor pagination."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from pydantic import ValidationError as PydanticValidationError

from wangge.core.errors import ValidationFailed, WanggeError, render_both
from wangge.core.text import Said

logger = logging.getLogger(__name__)
# Seconds a client is asked to wait when the database cannot be reached (503 Retry-After).
UNAVAILABLE_RETRY_AFTER = 30


class IdCursorPagination(PaginationBase):
    """Newest first; `next_cursor` (opaque) opens the next page, `limit` is 1–200 rows (50).

    The page is `{items, next_cursor}`. Ninja's own CursorPagination answers `{previous, next,
    results}` with whole URLs, which would break what /api/v1/ publishes; this keeps the published
    shape with ninja's `@paginate`. The cursor is the last id seen: rows filed meanwhile never shift a page.
    """

    class Input(Schema):
        cursor: str | None = None
        limit: int = Field(50, description="rows per page, 1 to 200")

    class Output(Schema):
        items: list[Any]
        next_cursor: str | None

    items_attribute = "items"
    max_limit = 200

    @staticmethod
    def encode(pk: int) -> str:
        return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str) -> int:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            kind, _sep, value = text.partition(":")
            if kind != "id":
                raise ValueError(text)
            return int(value)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationFailed(_("the cursor is not valid"), field="cursor") from None

    def paginate_queryset(self, queryset: QuerySet[Any], pagination: Input, request: HttpRequest, **params: Any) -> Any:
        qs = queryset.order_by("-id")
        if pagination.cursor:
            qs = qs.filter(pk__lt=self.decode(pagination.cursor))
        limit = max(1, min(pagination.limit, self.max_limit))
        rows = list(qs[: limit + 1])  # one row more tells whether a next page exists, without a COUNT
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": rows, "next_cursor": self.encode(rows[-1].pk) if more and rows else None}


def error_body(
    code: str, message: Any, params: dict[str, Any] | None = None, field: str | None = None, **extra: object
) -> dict[str, object]:
    """The one error shape for what is not a `WanggeError`: `message` (lazy, msgid in English) in both languages."""
    zh, en = render_both(message, params)
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
            error_body("invalid", _("invalid input: %(msg)s"), {"msg": msg}, field, errors=exc.errors),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def _auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(request, error_body("unauthenticated", _("authentication required")), status=401)

    @api.exception_handler(Throttled)
    def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        # The throttle that refused may say why in the one error shape (an integrator's key says its limit).
        error = getattr(request, "throttle_error", None)
        if isinstance(error, WanggeError):
            return api.create_response(request, error.as_dict(), status=429)
        body = error_body("rate_limited", _("too many requests; try again shortly"))
        return api.create_response(request, body, status=429)

    def _database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The database is unreachable (down, restarting, out of connections): the client may try again,
        # and it gets the same JSON shape as every other error, never Django's HTML 500 page.
        logger.error("API %s %s: database unavailable: %s", request.method, request.path, exc)
        body = error_body("unavailable", _("the service is unavailable for a moment; try again shortly"))
        response = api.create_response(request, body, status=503)
        response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
        return response

    @api.exception_handler(OperationalError)
    def _operational(request: HttpRequest, exc: OperationalError) -> HttpResponse:
        return _database_down(request, exc)

    @api.exception_handler(InterfaceError)
    def _interface(request: HttpRequest, exc: InterfaceError) -> HttpResponse:
        return _database_down(request, exc)

    @api.exception_handler(PydanticValidationError)
    def _response_unreadable(request: HttpRequest, exc: PydanticValidationError) -> HttpResponse:
        # A route returning a lazy queryset meets the database only while its response is validated, and
        # pydantic reports the failed read as a validation error. If the database is unreachable now, that
        # is the outage; otherwise it is a real fault and stays a 500.
        try:
            connection.ensure_connection()
        except (OperationalError, InterfaceError) as down:
            return _database_down(request, down)
        raise exc

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(request, error_body("http_error", Said(str(exc), str(exc))), status=exc.status_code)
