"""The only writers of the open-government catalogue: items, their publishing history, the overdue flag.

Each change of an item is a conditional UPDATE on its version, so two staff editing or publishing
the same item at once give one winner and one clear Conflict. Publishing writes an immutable
`DisclosureVersion`: the public always reads versions, never the working copy.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.models import ROLE_LEVEL, Role
from wangge.accounts.scope import scope_for
from wangge.core import clock
from wangge.core.errors import Conflict, PermissionDenied, ValidationFailed
from wangge.core.text import clean_text
from wangge.opengov.models import (
    DisclosureAttachment,
    DisclosureDomain,
    DisclosureItem,
    DisclosureVersion,
    Frequency,
    ItemState,
)
from wangge.registry.models import Area, Level

logger = logging.getLogger("wangge.opengov")

ITEM_LEVELS = (Level.CITY, Level.TOWN, Level.VILLAGE)
EDIT_ROLES = (Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN)
MAX_ATTACHMENTS = 10
# What an attachment's first bytes must be for its extension: the name alone proves nothing.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "xlsx": (b"PK\x03\x04",),
    "docx": (b"PK\x03\x04",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "ofd": (b"PK\x03\x04",),
}


def can_edit(user: Any, area_path: str) -> bool:
    """Village staff edit their village's items, town staff their town's and villages', city administrators all."""
    scope = scope_for(user)
    if scope.read_only:
        return False
    if scope.is_global:
        return True
    return getattr(user, "role", "") in EDIT_ROLES and scope.covers_path(area_path)


def _check_edit(user: Any, area_path: str) -> None:
    if not can_edit(user, area_path):
        raise PermissionDenied(
            _("only staff of this area or above (village, town, city) may maintain this item"),
            field="area",
        )


def _max_attachment_bytes() -> int:
    return int(getattr(settings, "OPENGOV_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))


def _clean_attachment(upload: Any) -> tuple[str, Any, int]:
    """(shown name, content, size) of an accepted file: a known type whose first bytes match, within the cap."""
    from django.core.files.base import ContentFile

    raw_name = str(getattr(upload, "name", "") or "file")
    ext = raw_name.rsplit(".", 1)[-1].lower() if "." in raw_name else ""
    if ext not in SIGNATURES:
        raise ValidationFailed(
            _("unsupported attachment: %(raw_name)s (PDF, images, Word, Excel, OFD)"),
            params={"raw_name": raw_name},
            field="attachments",
        )
    cap = _max_attachment_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > cap:
        raise ValidationFailed(
            _("%(name)s is over %(megabytes)s MB"),
            params={"name": raw_name, "megabytes": cap // (1024 * 1024)},
            field="attachments",
        )
    if ext in ("jpg", "jpeg", "png"):
        from wangge.core.photos import clean_photo

        photo = clean_photo(upload)  # re-encoded: EXIF (and its GPS) never reaches the public
        data = photo.content.read()
        stored_ext = photo.name.rsplit(".", 1)[-1]
        shown = raw_name.rsplit(".", 1)[0][:100] + "." + stored_ext
        return shown, ContentFile(data, name=f"file.{stored_ext}"), len(data)
    data = upload.read(cap + 1)
    if len(data) > cap:
        raise ValidationFailed(
            _("%(name)s is over %(megabytes)s MB"),
            params={"name": raw_name, "megabytes": cap // (1024 * 1024)},
            field="attachments",
        )
    if not any(data.startswith(sig) for sig in SIGNATURES[ext]):
        raise ValidationFailed(
            _("%(name)s is not really a .%(ext)s file"), params={"name": raw_name, "ext": ext}, field="attachments"
        )
    shown = clean_text(raw_name, field="attachments", limit=200, label=pgettext_lazy("disclosure field", "file name"))[
        -120:
    ]
    return shown, ContentFile(data, name=f"file.{ext}"), len(data)


def _save_attachments(item: DisclosureItem, uploads: Iterable[Any], now: dt.datetime) -> int:
    files = [u for u in uploads if u is not None]
    if not files:
        return 0
    if item.attachments.count() + len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            _("at most %(limit)s attachments per item"),
            params={"limit": MAX_ATTACHMENTS},
            field="attachments",
        )
    cleaned = [_clean_attachment(u) for u in files]  # every file is checked before any is stored
    for shown, content, size in cleaned:
        att = DisclosureAttachment(item=item, name=shown, size=size, uploaded_at=now)
        att.file.save(content.name, content, save=False)
        att.save()
    return len(cleaned)


def _clean_fields(
    *, domain: Any, title: Any, content: Any, frequency_days: Any, responsible_unit: Any
) -> dict[str, Any]:
    if not isinstance(domain, DisclosureDomain) or not domain.is_active:
        raise ValidationFailed(_("choose a disclosure domain"), field="domain")
    if frequency_days not in Frequency.values:
        raise ValidationFailed(
            _("the frequency must be real time, monthly, quarterly, yearly or standing"),
            field="frequency_days",
        )
    return {
        "domain": domain,
        "title": clean_text(
            title, field="title", limit=200, label=pgettext_lazy("disclosure field", "title"), required=True
        ),
        "content": clean_text(
            content, field="content", limit=50_000, label=pgettext_lazy("disclosure field", "content"), required=True
        ),
        "frequency_days": frequency_days,
        "responsible_unit": clean_text(
            responsible_unit,
            field="responsible_unit",
            limit=100,
            label=pgettext_lazy("disclosure field", "responsible unit"),
            required=True,
        ),
    }


@transaction.atomic
def item_create(
    *,
    user: Any,
    area: Area,
    domain: DisclosureDomain,
    title: str,
    content: str,
    responsible_unit: str,
    frequency_days: int = Frequency.QUARTERLY,
    attachments: Iterable[Any] = (),
) -> DisclosureItem:
    """A new item is a draft of one city, town or village in one standard domain; nothing is public yet."""
    if area.level not in ITEM_LEVELS:
        raise ValidationFailed(_("an item belongs to a city, town or village"), field="area")
    _check_edit(user, area.path)
    fields = _clean_fields(
        domain=domain, title=title, content=content, frequency_days=frequency_days, responsible_unit=responsible_unit
    )
    now = clock.now()
    item = DisclosureItem.objects.create(
        area=area,
        area_path=area.path,
        level=area.level,
        created_by=user if getattr(user, "pk", None) else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    _save_attachments(item, attachments, now)
    return item


def _bump(item: DisclosureItem, **fields: Any) -> None:
    """Apply a change as a conditional UPDATE on the version the caller read (one winner)."""
    changed = DisclosureItem.objects.filter(pk=item.pk, version=item.version).update(version=F("version") + 1, **fields)
    if not changed:
        raise Conflict(_("someone else changed this item; reload and try again"))
    item.refresh_from_db()


@transaction.atomic
def item_update(
    *,
    user: Any,
    item: DisclosureItem,
    title: str | None = None,
    content: str | None = None,
    responsible_unit: str | None = None,
    frequency_days: int | None = None,
    domain: DisclosureDomain | None = None,
    attachments: Iterable[Any] = (),
    remove_attachment_ids: Iterable[int] = (),
) -> DisclosureItem:
    """Edits change the working copy only: the public keeps seeing the last published version until the next publish."""
    _check_edit(user, item.area_path)
    fields = _clean_fields(
        domain=domain if domain is not None else item.domain,
        title=title if title is not None else item.title,
        content=content if content is not None else item.content,
        frequency_days=frequency_days if frequency_days is not None else item.frequency_days,
        responsible_unit=responsible_unit if responsible_unit is not None else item.responsible_unit,
    )
    now = clock.now()
    _bump(item, has_changes=True, updated_at=now, **fields)
    remove = [int(i) for i in remove_attachment_ids]
    if remove:
        # Files of published versions stay: the history must still open them.
        published = {a for v in item.versions.values_list("attachment_ids", flat=True) for a in v}
        item.attachments.filter(pk__in=[i for i in remove if i not in published]).delete()
    _save_attachments(item, attachments, now)
    return item


@transaction.atomic
def item_publish(*, user: Any, item: DisclosureItem) -> DisclosureVersion:
    """Publishing makes the working copy public as a new version (earlier ones stay) and sets the next due date."""
    _check_edit(user, item.area_path)
    now = clock.now()
    on_time = None
    if item.state == ItemState.PUBLISHED and item.next_due_at is not None:
        on_time = now <= item.next_due_at
    days = item.frequency_days
    _bump(
        item,
        state=ItemState.PUBLISHED,
        published_at=now,
        next_due_at=now + dt.timedelta(days=days) if days else None,
        overdue_since=None,
        has_changes=False,
        withdrawn_reason="",
        updated_at=now,
    )
    number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return DisclosureVersion.objects.create(
        item=item,
        number=number,
        title=item.title,
        content=item.content,
        responsible_unit=item.responsible_unit,
        attachment_ids=list(item.attachments.order_by("id").values_list("id", flat=True)),
        published_at=now,
        published_by=user if getattr(user, "pk", None) else None,
        on_time=on_time,
    )


@transaction.atomic
def item_withdraw(*, user: Any, item: DisclosureItem, reason: str) -> DisclosureItem:
    """A published item is taken off the public catalogue only with a written reason; its history is kept."""
    _check_edit(user, item.area_path)
    reason = clean_text(
        reason, field="reason", limit=300, label=pgettext_lazy("disclosure field", "reason to withdraw"), required=True
    )
    if item.state != ItemState.PUBLISHED:
        raise ValidationFailed(_("only a published item can be withdrawn"), field="state")
    _bump(
        item,
        state=ItemState.WITHDRAWN,
        withdrawn_reason=reason,
        next_due_at=None,
        overdue_since=None,
        updated_at=clock.now(),
    )
    return item


# --- the worker's sweep -----------------------------------------------------------------------


def _level_recipients(area: Area) -> list[str]:
    """Active staff of the item's own level (village, town or city administrators), else the area itself."""
    from wangge.accounts.models import UserScope

    roles = [r for r, level in ROLE_LEVEL.items() if level == area.level and r != Role.AUDITOR]
    ids = sorted(
        set(
            UserScope.objects.filter(area=area, user__is_active=True, user__role__in=roles).values_list(
                "user_id", flat=True
            )
        )
    )
    return [f"user:{i}" for i in ids] or [f"area:{area.code}"]


def disclosure_flag_overdue(*, now: dt.datetime, limit: int = 1000) -> int:
    """Mark published items past their update date as overdue, once, and tell the responsible level (idempotent)."""
    from wangge.notifications.services import outbox_enqueue

    channel = str(
        getattr(settings, "OPENGOV_NOTIFY_CHANNEL", getattr(settings, "DEMAND_NOTIFY_STAFF_CHANNEL", "wechat"))
    )
    flagged = 0
    due = list(
        DisclosureItem.objects.filter(state=ItemState.PUBLISHED, overdue_since__isnull=True, next_due_at__lt=now)
        .order_by("next_due_at", "id")
        .values_list("pk", "next_due_at")[:limit]
    )
    for pk, due_at in due:
        if due_at is None:  # excluded by the filter; keeps the type checker honest
            continue
        with transaction.atomic():
            # The conditional UPDATE is the claim: two workers sweeping at once flag (and tell) once.
            won = DisclosureItem.objects.filter(
                pk=pk, state=ItemState.PUBLISHED, overdue_since__isnull=True, next_due_at=due_at
            ).update(overdue_since=now)
            if not won:
                continue
            item = DisclosureItem.objects.select_related("area", "domain").get(pk=pk)
            days = (now - due_at).days
            # Told in Chinese whatever language the sweep runs in: the people it reaches read Chinese.
            with translation.override("zh-hans"):
                subject = str(_("A disclosure item is overdue for its update"))
                body = _(
                    "%(area)s '%(title)s' (%(domain)s, %(unit)s) was due for an update by %(due)s and is %(days)s "
                    "days overdue; please update it and publish it again."
                ) % {
                    "area": item.area.name,
                    "title": item.title,
                    "domain": item.domain.name,
                    "unit": item.responsible_unit,
                    "due": f"{clock_local(due_at):%Y-%m-%d}",
                    "days": days,
                }
            for recipient in _level_recipients(item.area):
                outbox_enqueue(
                    channel=channel,
                    recipient=recipient,
                    subject=subject,
                    body=body,
                    payload={"item_id": item.pk, "due_at": due_at.isoformat(), "area": item.area.code},
                    kind="opengov.overdue",
                    area_path=item.area_path,
                    dedupe_key=f"opengov:overdue:{item.pk}:{due_at:%Y%m%d%H%M%S}:{recipient}"[:200],
                )
            flagged += 1
    if flagged:
        logger.info("opengov: %s items flagged overdue", flagged)
    return flagged


def disclosure_sweep() -> int:
    """The worker's pass (settings.WANGGE_WORKER_HOOKS, `manage.py opengov_sweep`): flag what is overdue now."""
    return disclosure_flag_overdue(now=clock.now())


def clock_local(value: dt.datetime) -> dt.datetime:
    from django.utils import timezone

    return timezone.localtime(value)
