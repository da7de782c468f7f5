"""Photos that reach a demand after it was filed, from outside a person's move: a resident's WeChat photo
fetched by the worker once WeChat lets us have it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from wangge.core.photos import CleanPhoto
from wangge.demands.models import ActorKind, Demand
from wangge.demands.services._common import _note_event, _reload, _save_photos


@transaction.atomic
def demand_photos_attach(
    *, demand: Demand, photos: Iterable[CleanPhoto], note: str, by_resident: bool = True
) -> Demand:
    """Attach cleaned photos to `demand` as one "information added" event on its timeline (public: the
    reporter sent them). Neither the state nor the version changes, so no holder's move conflicts with it."""
    demand = _reload(demand)
    items = list(photos)
    if not items:
        return demand
    kind: Any = ActorKind.RESIDENT if by_resident else ActorKind.SYSTEM
    event = _note_event(demand, action="add_info", note=note, actor_kind=kind, is_public=True)
    _save_photos(demand, items, event=event, by_resident=by_resident)
    return demand
