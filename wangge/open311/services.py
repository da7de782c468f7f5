"""Open311 POST requests → one demand through `demands.services.demand_submit` (channel "api")."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from wangge.accounts.models import ApiKey
from wangge.core import clock
from wangge.demands.models import Category, Demand
from wangge.demands.services import demand_submit
from wangge.open311.models import Open311Submission
from wangge.registry.models import Area


@transaction.atomic
def open311_submit(
    *,
    category: Category,
    description: str,
    key: ApiKey | None,
    urgency: str = "normal",
    kind: str = "help",
    title: str = "",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    grid: Area | None = None,
    area: Area | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    email: str = "",
    media_urls: list[str] | None = None,
    account_id: str = "",
    device_id: str = "",
    attributes: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[Demand, Open311Submission]:
    """File a demand for an Open311 client: only inside the key's scope; demand and record commit together."""
    demand = demand_submit(
        channel="api",
        title=title,
        description=description,
        kind=kind,
        category=category,
        urgency=urgency,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        grid=grid,
        area=area,
        lat=lat,
        lng=lng,
        address=address,
        # The key's service account: demand_submit refuses an area outside the key's scope.
        actor=key.account if key is not None else None,
        idempotency_key=idempotency_key,
    ).demand
    existing = Open311Submission.objects.filter(demand=demand).first()
    if existing is not None:  # a retried POST with the same idempotency key: the first answer again
        return demand, existing
    submission = Open311Submission.objects.create(
        demand=demand,
        api_key=key,
        token=secrets.token_urlsafe(24),
        media_urls=list(media_urls or []),
        email=email,
        account_id=account_id[:100],
        device_id=device_id[:100],
        attributes=dict(attributes or {}),
        created_at=clock.now(),
    )
    return demand, submission
