"""The register kept by the people who know it: one writer for a household's details, its history,
and the village's approval of a move between grids.

`household_update` is the only function that changes a household's details after it was created
(pages, the admin and the visit form all call it). It is a conditional UPDATE on the household's
`version`: of two leaders editing one household at once, the second gets a `Conflict` (409) and
nothing of theirs is written. Every change writes one `HouseholdChange` in the same transaction:
who, when, and each field from what to what, with ID numbers and phones masked.
A move to another grid is only proposed here (`household_move_propose`); it happens when village
staff approve it (`household_move_decide`, which calls `household_move`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from wangge.core.clock import now
from wangge.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from wangge.core.masking import decrypt, encrypt, lookup_hash, mask_id_number, mask_phone
from wangge.core.phones import clean_phone
from wangge.registry import permissions
from wangge.registry.models import (
    LEVEL_DEPTH,
    Area,
    CareTag,
    ChangeKind,
    Household,
    HouseholdChange,
    HouseholdMember,
    HouseholdMoveRequest,
    Level,
    MemberStatus,
    MoveState,
    tags_to_column,
)
from wangge.registry.services.base import clean_id_number, household_key, household_move

MAX_MEMBERS = 50
MAX_ADDRESS = 200
MAX_NAME = 50
MAX_REASON = 200
MAX_RELATION = 20
MAX_PEOPLE = 50


@dataclass(frozen=True)
class MemberDraft:
    """One person of the household as the form gives it: `pk` None for a person added now."""

    name: str
    relation: str = ""
    status: str = MemberStatus.LIVING
    pk: int | None = None


def _member_shown(name: str, relation: str, status: str) -> dict[str, str]:
    return {"name": name, "relation": relation, "status": status}


def _people_ops(
    household: Household, drafts: list[MemberDraft]
) -> tuple[list[tuple[HouseholdMember | None, dict[str, str]]], list[dict[str, Any]]]:
    """Check the drafts against the household's people: what to write and the history lines (nothing written)."""
    if len(drafts) > MAX_PEOPLE:
        raise ValidationFailed(
            _("People: at most %(limit)s people per household"), params={"limit": MAX_PEOPLE}, field="people"
        )
    existing = {m.pk: m for m in HouseholdMember.objects.filter(household_id=household.pk)}
    ops: list[tuple[HouseholdMember | None, dict[str, str]]] = []
    lines: list[dict[str, Any]] = []
    for i, draft in enumerate(drafts):
        field, line = f"people.{i}", {"n": i + 1}
        name = (draft.name or "").strip()
        relation = (draft.relation or "").strip()
        if not name or len(name) > MAX_NAME:
            raise ValidationFailed(
                _("People, line %(n)s: a name of 1 to %(limit)s characters"),
                params={**line, "limit": MAX_NAME},
                field=f"{field}.name",
            )
        if len(relation) > MAX_RELATION:
            raise ValidationFailed(
                _("People, line %(n)s: the relation is longer than %(limit)s characters"),
                params={**line, "limit": MAX_RELATION},
                field=f"{field}.relation",
            )
        if draft.status not in MemberStatus.values:
            raise ValidationFailed(
                _("People, line %(n)s: unknown status %(status)s"),
                params={**line, "status": draft.status},
                field=f"{field}.status",
            )
        new = _member_shown(name, relation, draft.status)
        if draft.pk is None:
            ops.append((None, new))
            lines.append({"field": "person", "old": None, "new": new})
            continue
        member = existing.get(draft.pk)
        if member is None:
            raise ValidationFailed(
                _("People, line %(n)s: this person is not of this household"), params=line, field=f"{field}.name"
            )
        old = _member_shown(member.name, member.relation, member.status)
        if old != new:
            ops.append((member, new))
            lines.append({"field": "person", "old": old, "new": new})
    return ops, lines


STALE = _(
    "Someone else changed this household while you were editing it; nothing of yours was saved. "
    "Reload the page to see their change, then enter yours again"
)


def _may_edit(by: Any, household: Household) -> None:
    """Outside the editor's areas the household does not exist for them (404); a reader gets 403."""
    if by is None:  # the admin site, which checks its own permissions, and commands
        return
    if not permissions.sees_household(by, household.area_path):
        raise NotFound(_("household not found"))
    if not permissions.can_edit_household(by, household.area_path):
        raise PermissionDenied(_("your account may not change the household register"), code="read_only")


def _text(value: str, *, field: str, label: Any, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(_("%(field)s is required"), params={"field": label}, field=field)
    if len(text) > limit:
        raise ValidationFailed(
            _("%(field)s is longer than %(limit)s characters"), params={"field": label, "limit": limit}, field=field
        )
    return text


def _phone(raw: object) -> str:
    try:
        return clean_phone(raw, field="phone")
    except ValidationFailed as exc:
        raise ValidationFailed(
            _("Phone: %(phone)s is not a valid mobile or landline number"),
            params={"phone": str(raw).strip()[:20]},
            field="phone",
            code="bad_phone",
        ) from exc


def _id_number(raw: object) -> str:
    try:
        return clean_id_number(raw, field="head_id_number")
    except ValidationFailed as exc:
        raise ValidationFailed(
            _("Head's ID number: not a valid 18-digit ID number (check every digit and the last one)"),
            field="head_id_number",
            code=exc.code,
        ) from exc


def _members(raw: int | str) -> int:
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_MEMBERS:
        raise ValidationFailed(
            _("Members: a whole number from 1 to %(limit)s"), params={"limit": MAX_MEMBERS}, field="members"
        )
    return int(text)


def _tags(tags: list[str]) -> str:
    unknown = [t for t in tags if t and t not in CareTag.values]
    if unknown:
        raise ValidationFailed(
            _("Care tags: unknown tag %(tag)s"), params={"tag": unknown[0]}, field="care_tags", code="bad_tag"
        )
    return tags_to_column(tags)


def _record(household: Household, *, kind: str, fields: list[dict[str, Any]], version: int, by: Any) -> None:
    HouseholdChange.objects.create(
        household_id=household.pk,
        area_path=household.area_path,
        kind=kind,
        fields=fields,
        version=version,
        changed_by=by if by is not None and getattr(by, "pk", None) else None,
        changed_at=now(),
    )


@transaction.atomic
def household_update(
    *,
    household: Household,
    by: Any,
    version: int,
    address: str | None = None,
    head_name: str | None = None,
    head_id_number: str | None = None,
    phone: object | None = None,
    members: int | str | None = None,
    care_tags: list[str] | None = None,
    moved_out: bool | None = None,
    head_deceased: bool | None = None,
    people: list[MemberDraft] | None = None,
    kind: str = ChangeKind.EDIT,
) -> Household:
    """Change a household's details (its grid moves only by `household_move_decide`); `None` leaves a field.

    `version` is the household's version the editor saw; if it changed since, `Conflict` and nothing is
    written. An empty `head_id_number` keeps the one on record; a new one is checked, stored encrypted
    with its lookup hash, and becomes the household's identity for re-imports. Returns the household as
    saved; with nothing changed, nothing is written (no history line, same version). `people` adds
    persons (no `pk`) and changes those on record (name, relation, lives here / moved out / deceased);
    a person left out of the list is kept as they are.
    """
    current = Household.objects.select_related("grid").filter(pk=household.pk).first()
    if current is None:
        raise NotFound(_("household not found"))
    _may_edit(by, current)
    if kind not in (ChangeKind.EDIT, ChangeKind.VISIT):
        raise ValidationFailed(_("unknown kind of change: %(kind)s"), params={"kind": kind}, field="kind")
    if current.version != version:
        raise Conflict(STALE, code="stale_version")

    changes: dict[str, Any] = {}
    lines: list[dict[str, Any]] = []

    def change(field: str, new: Any, *, old_shown: Any = None, new_shown: Any = None, column: str = "") -> None:
        old = getattr(current, column or field)
        if old == new:
            return
        changes[column or field] = new
        lines.append(
            {
                "field": field,
                "old": old if old_shown is None else old_shown,
                "new": new if new_shown is None else new_shown,
            }
        )

    if address is not None:
        change("address", _text(address, field="address", label=_("Address"), limit=MAX_ADDRESS))
    if head_name is not None:
        change("head_name", _text(head_name, field="head_name", label=_("Head of household"), limit=MAX_NAME))
    if phone is not None:
        new_phone = _phone(phone)
        change("phone", new_phone, old_shown=mask_phone(current.phone), new_shown=mask_phone(new_phone))
    if members is not None:
        change("members", _members(members))
    if care_tags is not None:
        column = _tags(care_tags)
        if column != current.care_tags:
            changes["care_tags"] = column
            lines.append({"field": "care_tags", "old": current.tag_list, "new": [t for t in column.split(",") if t]})
    if moved_out is not None:
        change("moved_out", bool(moved_out))
    if head_deceased is not None:
        change("head_deceased", bool(head_deceased))
    if head_id_number:
        id_text = _id_number(head_id_number)
        id_hash = lookup_hash(id_text)
        if id_hash != current.head_id_number_hash:
            key = household_key(village_code="", address="", head_name="", id_hash=id_hash)
            if Household.objects.filter(key=key).exclude(pk=current.pk).exists():
                raise ValidationFailed(
                    _("Head's ID number: another household is registered with this ID number"),
                    field="head_id_number",
                    code="duplicate",
                )
            # Shown masked in the history: decrypted here only to mask it, never on a page.
            old_masked = mask_id_number(decrypt(current.head_id_number_enc)) if current.head_id_number_enc else ""
            changes.update(head_id_number_enc=encrypt(id_text), head_id_number_hash=id_hash, key=key)
            lines.append({"field": "head_id_number", "old": old_masked, "new": mask_id_number(id_text)})

    people_ops: list[tuple[HouseholdMember | None, dict[str, str]]] = []
    if people is not None:
        people_ops, people_lines = _people_ops(current, people)
        lines.extend(people_lines)

    if not changes and not people_ops:
        return current
    took = Household.objects.filter(pk=current.pk, version=version).update(
        **changes, version=F("version") + 1, updated_at=now()
    )
    if not took:
        raise Conflict(STALE, code="stale_version")
    for member, values in people_ops:  # after the version is won: a lost race writes none of them
        if member is None:
            HouseholdMember.objects.create(household_id=current.pk, created_at=now(), **values)
        else:
            HouseholdMember.objects.filter(pk=member.pk).update(**values)
    _record(current, kind=kind, fields=lines, version=version + 1, by=by)
    return Household.objects.select_related("grid").get(pk=current.pk)


def _village_path(grid: Area) -> str:
    parts = grid.path.rstrip("/").split("/")
    return "/".join(parts[: LEVEL_DEPTH[Level.VILLAGE] + 1]) + "/"


@transaction.atomic
def household_move_propose(*, household: Household, to_grid: Area, by: Any, reason: str = "") -> HouseholdMoveRequest:
    """A grid leader proposes moving a household to another grid of its village; nothing moves yet."""
    current = Household.objects.select_related("grid").filter(pk=household.pk).first()
    if current is None:
        raise NotFound(_("household not found"))
    _may_edit(by, current)
    if to_grid.level != Level.GRID:
        raise ValidationFailed(_("a household belongs to a micro-grid"), field="to_grid")
    if to_grid.pk == current.grid_id:
        raise ValidationFailed(_("Move to: the household is already in this grid"), field="to_grid")
    if _village_path(to_grid) != _village_path(current.grid):
        raise ValidationFailed(
            _("Move to: a household can move only to another grid of its own village"), field="to_grid"
        )
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            _("%(field)s is longer than %(limit)s characters"),
            params={"field": _("Reason"), "limit": MAX_REASON},
            field="reason",
        )
    try:
        with transaction.atomic():
            request = HouseholdMoveRequest.objects.create(
                household=current,
                from_grid_id=current.grid_id,
                to_grid=to_grid,
                area_path=current.area_path,
                reason=reason,
                proposed_by=by if by is not None and getattr(by, "pk", None) else None,
                proposed_at=now(),
            )
    except IntegrityError:
        raise Conflict(
            _("A move of this household is already waiting for the village's decision"), code="move_pending"
        ) from None
    _record(
        current,
        kind=ChangeKind.MOVE_PROPOSED,
        fields=[{"field": "grid", "old": current.grid.name, "new": to_grid.name}],
        version=current.version,
        by=by,
    )
    return request


@transaction.atomic
def household_move_decide(*, request: HouseholdMoveRequest, by: Any, approve: bool) -> HouseholdMoveRequest:
    """Village staff approve (the household moves, the target's 30-household limit holds) or refuse."""
    current = (
        HouseholdMoveRequest.objects.select_related("household", "from_grid", "to_grid").filter(pk=request.pk).first()
    )
    if current is None or not (
        permissions.sees_household(by, current.area_path) and permissions.sees_household(by, current.to_grid.path)
    ):
        raise NotFound(_("move request not found"))
    if not permissions.can_decide_move(by, current.area_path, current.to_grid.path):
        raise PermissionDenied(_("only the village's staff decide a move between its grids"), code="forbidden")
    state = MoveState.APPROVED if approve else MoveState.REFUSED
    decided = HouseholdMoveRequest.objects.filter(pk=current.pk, state=MoveState.PENDING).update(
        state=state, decided_by=by, decided_at=now()
    )
    if not decided:
        raise Conflict(_("This move was already decided"), code="move_decided")
    household = Household.objects.select_for_update().select_related("grid").get(pk=current.household_id)
    lines = [{"field": "grid", "old": current.from_grid.name, "new": current.to_grid.name}]
    if approve:
        if household.grid_id != current.from_grid_id:
            raise Conflict(_("The household changed grid since this move was proposed"), code="move_stale")
        household_move(household=household, grid=current.to_grid)
        Household.objects.filter(pk=household.pk).update(version=F("version") + 1, updated_at=now())
        household.refresh_from_db()
        _record(household, kind=ChangeKind.MOVE_APPROVED, fields=lines, version=household.version, by=by)
    else:
        _record(household, kind=ChangeKind.MOVE_REFUSED, fields=lines, version=household.version, by=by)
    current.refresh_from_db()
    return current


@transaction.atomic
def household_move_direct(*, household: Household, grid: Area, by: Any) -> Household:
    """The back office moves a household itself (the admin site, which checks its own permissions): as an
    approved move, the version rises and the history says who moved it from where to where."""
    current = Household.objects.select_for_update().select_related("grid").get(pk=household.pk)
    if current.grid_id == grid.pk:
        return current
    lines = [{"field": "grid", "old": current.grid.name, "new": grid.name}]
    household_move(household=current, grid=grid)
    Household.objects.filter(pk=current.pk).update(version=F("version") + 1, updated_at=now())
    current.refresh_from_db()
    _record(current, kind=ChangeKind.MOVE_APPROVED, fields=lines, version=current.version, by=by)
    return current


__all__ = [
    "MemberDraft",
    "household_move_decide",
    "household_move_direct",
    "household_move_propose",
    "household_update",
]
