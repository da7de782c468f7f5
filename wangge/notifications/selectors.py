"""Reads of the outbox, scoped: city administrators see their city's messages, superusers all, others none."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.core.errors import NotFound
from wangge.notifications.models import DeliveryAttempt, OutboxMessage, State

# Roles that run the city's back office and so may watch its deliveries.
OUTBOX_ROLES = frozenset({Role.CITY_ADMIN.value})


def outbox_allowed(*, user: Any) -> bool:
    """Whether the user may open the outbox at all (the page answers 403 otherwise)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or getattr(user, "role", "") in OUTBOX_ROLES)


def outbox_list(*, user: Any, state: str | None = None) -> QuerySet[OutboxMessage]:
    """Messages inside the user's areas (none for anyone but city administrators and superusers), newest first."""
    if not outbox_allowed(user=user):
        return OutboxMessage.objects.none()
    qs = OutboxMessage.objects.filter(scope_for(user).area_q("area_path"))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def outbox_with_attempts(qs: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """The same messages with their attempts in one more query, whatever the page size."""
    return qs.prefetch_related(Prefetch("delivery_attempts", queryset=DeliveryAttempt.objects.order_by("at", "id")))


def outbox_get(*, user: Any, pk: int) -> OutboxMessage:
    """One message inside the user's scope, or NotFound (never reveal what lies outside)."""
    message = outbox_list(user=user).filter(pk=pk).first()
    if message is None:
        raise NotFound(_("message not found"))
    return message


def outbox_attempts(*, message: OutboxMessage) -> QuerySet[DeliveryAttempt]:
    """A message's delivery history, oldest first (the caller got the message through outbox_get)."""
    return DeliveryAttempt.objects.filter(message=message).order_by("at", "id")


def outbox_counts(*, user: Any) -> dict[str, int]:
    """Messages per state inside the user's scope, for the filter bar."""
    rows = outbox_list(user=user).order_by().values("state").annotate(n=Count("id"))
    counts = {s.value: 0 for s in State}
    for row in rows:
        counts[row["state"]] = row["n"]
    return counts
