"""The catalogue: materials, service items (事项) and the bundles (一件事) a window takes at once."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.text import Listed
from wangge.onestop.facts import unknown_keys
from wangge.onestop.models import BundleItem, HandleLevel, Material, ServiceBundle, ServiceItem
from wangge.registry.models import Department


@transaction.atomic
def material_create(
    *,
    code: str,
    name: str,
    kind: str = "original",
    count: int = 1,
    description: str = "",
    deferrable: bool = False,
) -> Material:
    """A material is defined once and shared by items, so that a bundle asks for it once."""
    if Material.objects.filter(code=code).exists():
        raise ValidationFailed(_("material code %(code)s is taken"), params={"code": code}, field="code")
    if count < 1:
        raise ValidationFailed(_("at least one copy"), field="count")
    return Material.objects.create(
        code=code, name=name, kind=kind, count=count, description=description, deferrable=deferrable
    )


@transaction.atomic
def service_item_create(
    *,
    code: str,
    name: str,
    department: Department,
    handle_level: str,
    time_limit_days: int = 1,
    fee_fen: int = 0,
    village_ok: bool = False,
    materials: Iterable[Material] = (),
    form_fields: list[str] | None = None,
    produces: Material | None = None,
) -> ServiceItem:
    """An item names known facts only, and only a village-level item may be offered at village points."""
    form_fields = list(form_fields or [])
    if ServiceItem.objects.filter(code=code).exists():
        raise ValidationFailed(_("item code %(code)s is taken"), params={"code": code}, field="code")
    if handle_level not in HandleLevel.values:
        raise ValidationFailed(_("level must be city, town or village"), field="handle_level")
    if village_ok and handle_level != HandleLevel.VILLAGE:
        raise ValidationFailed(_("an item for village points must be handled at village level"), field="village_ok")
    unknown = unknown_keys(form_fields)
    if unknown:
        raise ValidationFailed(_("unknown facts: %(keys)s"), params={"keys": Listed(unknown)}, field="form_fields")
    if fee_fen < 0 or time_limit_days < 0:
        raise ValidationFailed(_("fee and time limit cannot be negative"), field="fee_fen")
    item = ServiceItem.objects.create(
        code=code,
        name=name,
        department=department,
        handle_level=handle_level,
        time_limit_days=time_limit_days,
        fee_fen=fee_fen,
        village_ok=village_ok,
        form_fields=list(dict.fromkeys(form_fields)),
        produces=produces,
    )
    item.materials.set(list(materials))
    return item


@transaction.atomic
def service_bundle_create(
    *,
    code: str,
    name: str,
    items: list[ServiceItem],
    description: str = "",
    promised_materials: int | None = None,
    promised_steps: int | None = None,
    promised_days: int | None = None,
    promised_fee_fen: int | None = None,
    ordering: int = 0,
) -> ServiceBundle:
    """A bundle holds distinct active items in order; its figures are computed from them, never typed."""
    if not items:
        raise ValidationFailed(_("a bundle needs at least one item"), field="items")
    if len({i.pk for i in items}) != len(items):
        raise ValidationFailed(_("an item appears twice"), field="items")
    if any(not i.is_active for i in items):
        raise ValidationFailed(_("an item is inactive"), field="items")
    if ServiceBundle.objects.filter(code=code).exists():
        raise ValidationFailed(_("bundle code %(code)s is taken"), params={"code": code}, field="code")
    bundle = ServiceBundle.objects.create(
        code=code,
        name=name,
        description=description,
        promised_materials=promised_materials,
        promised_steps=promised_steps,
        promised_days=promised_days,
        promised_fee_fen=promised_fee_fen,
        ordering=ordering,
    )
    BundleItem.objects.bulk_create([BundleItem(bundle=bundle, item=item, position=i) for i, item in enumerate(items)])
    return bundle
