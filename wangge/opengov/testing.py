"""Factories for open-government tests (and the scope walk): plain `make_<thing>(**overrides)` functions."""

from __future__ import annotations

import itertools
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from wangge.accounts.models import ROLE_LEVEL
from wangge.opengov import services
from wangge.opengov.demo import seed_domains
from wangge.opengov.models import DisclosureDomain, DisclosureItem
from wangge.registry.models import Area
from wangge.registry.testing import make_user

_seq = itertools.count(1)

LEVEL_ROLE = {level: role for role, level in ROLE_LEVEL.items() if role in services.EDIT_ROLES}


def domain(name: str = "财政预决算") -> DisclosureDomain:
    seed_domains()
    return DisclosureDomain.objects.get(name=name)


def make_editor(area: Area) -> Any:
    """A staff member of the area's own level (village staff, town staff or a city administrator)."""
    return make_user(role=LEVEL_ROLE[area.level], areas=[area])


def pdf(name: str = "附表.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"
    )


def make_item(*, area: Area, user: Any = None, publish: bool = False, **overrides: Any) -> DisclosureItem:
    n = next(_seq)
    data: dict[str, Any] = {
        "domain": overrides.pop("domain", None) or domain(),
        "title": f"公开事项{n}",
        "content": "本季度收入 18.6 万元，支出 15.2 万元。",
        "responsible_unit": "村务监督委员会",
        "frequency_days": 90,
    }
    data.update(overrides)
    user = user or make_editor(area)
    item = services.item_create(user=user, area=area, **data)
    if publish:
        services.item_publish(user=user, item=item)
        item.refresh_from_db()
    return item


def make_walk_world(*, village: Area, mark: str) -> dict[str, Any]:
    """A village's draft item with an attachment, its title carrying `mark` (for tests/test_scope_walk.py).

    A draft is never public, so the public pages of the walk never carry the marker.
    """
    item = make_item(area=village, title=mark + "村务公开", attachments=[pdf()])
    return {"disclosure_item": item, "disclosure_file": item.attachments.get()}
