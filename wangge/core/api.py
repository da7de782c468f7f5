"""API helpers: one error shape for every route, {code, message, message_en, field}; one cursor pagination."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PaginationBase
from ninja.schema import DjangoGetter
from pydantic import ValidationError as PydanticValidationError
from pydantic import ValidationInfo, model_validator
from pydantic.functional_validators import ModelWrapValidatorHandler

from wangge.core.errors import ValidationFailed, WanggeError, render_both
from wangge.core.text import Said

logger = logging.getLogger(__name__)
# Seconds a client is asked to wait when the database cannot be reached (503 Retry-After).
UNAVAILABLE_RETRY_AFTER = 30


class BodyIn(Schema):
    """The base of every request body: a JSON object, never a bare string, number or list.

    Ninja's `Schema` reads attributes from whatever it is given (that is how output schemas read model
    instances), so a body of `"AAA"` would fill `title` from `str.title`. An input is data a client
    sent, so anything but an object is refused before any field is read (422, the error shape below).
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        # Replaces ninja's validator of the same name (the one that reads attributes); the rest is as it does.
        if not isinstance(values, Mapping):
            raise ValueError("the request body must be a JSON object")
        if cls.model_config.get("extra") == "forbid":
            handler(values)
        return handler(DjangoGetter(values, cls, info.context))


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


# The deepest page an offset may open: beyond it a cursor serves (and SQLite cannot even hold 2**63).
MAX_OFFSET = 100_000


def offset_slice(*, offset: int, limit: int, max_limit: int) -> slice:
    """Rows `offset` to `offset + limit` (limit cut to 1..max_limit); an offset past `MAX_OFFSET` is refused."""
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(
            _("offset must be between 0 and %(max)s; use a narrower filter"),
            params={"max": MAX_OFFSET},
            field="offset",
        )
    limit = max(1, min(limit, max_limit))
    return slice(offset, offset + limit)


def error_body(
    code: str, message: Any, params: dict[str, Any] | None = None, field: str | None = None, **extra: object
) -> dict[str, object]:
    """The one error shape for what is not a `WanggeError`: `message` (lazy, msgid in English) in both languages."""
    zh, en = render_both(message, params)
    body: dict[str, object] = {"code": code, "message": zh, "message_en": en, "field": field}
    body.update(extra)
    return body


# Every route may answer these, in the one error shape: the published document says so, so a client (and
# schemathesis's status-code check) knows each of them is an answer and not a fault.
ERROR_STATUSES = {
    "400": "invalid input (the field is named)",
    "401": "authentication required",
    "403": "not allowed",
    "404": "not found, or outside the caller's scope",
    "409": "conflict: the state or version changed meanwhile",
    "422": "a value does not fit the schema",
    "429": "too many requests",
    "503": "the database is busy; try again",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "message_en"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string", "description": "in Chinese"},
        "message_en": {"type": "string"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
}


class WanggeAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document lists the error answers of every operation (`ERROR_STATUSES`)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, text in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": text, **ref})
        return schema


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
