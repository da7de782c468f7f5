"""Applications at the window: create, correct, verify identity, submit, receive materials, resupply, issue."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import FieldProblem, ValidationFailed
from wangge.core.masking import decrypt, encrypt, lookup_hash
from wangge.core.text import Listed, capped_text
from wangge.holidays import workdays
from wangge.onestop.facts import APPLICANT_KEYS, clean_facts, protect, reveal
from wangge.onestop.figures import bundle_items, combined_fact_keys, combined_materials, figures_for
from wangge.onestop.models import (
    LEVEL_RANK,
    Application,
    ApplicationTask,
    AppState,
    HandleLevel,
    IdentityMethod,
    Material,
    ServiceBundle,
    ServiceItem,
    TaskState,
)
from wangge.onestop.services._common import _check_window, _move, _problem, _raise
from wangge.registry.models import Area, Level

POINT_LEVELS = (Level.TOWN, Level.VILLAGE)


def point_problems(items: list[ServiceItem], point: Area) -> list[FieldProblem]:
    """Why this point may not take these items: a village point takes only village items (44 事项村级可办)."""
    if point.level not in POINT_LEVELS:
        return [_problem("bad_point", _("the service point must be a town or a village"), "point")]
    if point.level == Level.VILLAGE:
        refused = [i.name for i in items if not i.village_ok]
        if refused:
            return [
                _problem(
                    "not_village_item",
                    _("a village service point cannot take: %(items)s (go to the town centre)"),
                    "bundle",
                    items=Listed(refused),
                )
            ]
    rank = LEVEL_RANK[HandleLevel.TOWN if point.level == Level.TOWN else HandleLevel.VILLAGE]
    refused = [i.name for i in items if LEVEL_RANK[i.handle_level] < rank]
    if refused:
        return [
            _problem(
                "level_too_low", _("this service point's level cannot take: %(items)s"), "bundle", items=Listed(refused)
            )
        ]
    return []


def _split_facts(
    raw: dict[str, Any], keys: list[str], *, required: Iterable[str]
) -> tuple[dict[str, str], list[FieldProblem]]:
    """Clean the facts of this form: required ones must be there, others only if given."""
    outside = [k for k, v in raw.items() if k not in keys and v not in (None, "")]
    problems = [_problem("not_in_form", _("'%(key)s' is not asked by this bundle"), k, key=k) for k in outside]
    wanted = [k for k in keys if k in set(required) or str(raw.get(k) or "").strip()]
    clean, more = clean_facts(wanted, raw, today=clock.today_local())
    return clean, problems + more


def _store_facts(application: Application, clean: dict[str, str]) -> None:
    if "applicant_name" in clean:
        application.applicant_name = clean["applicant_name"]
    if "phone" in clean:
        application.applicant_phone = clean["phone"]
    if "id_number" in clean:
        application.applicant_id_enc = encrypt(clean["id_number"])
        application.applicant_id_hash = lookup_hash(clean["id_number"])
    rest = {k: v for k, v in clean.items() if k not in APPLICANT_KEYS}
    application.facts = {**application.facts, **protect(rest)}


def _material_ids(bundle_materials: list[Material], ids: Iterable[int | str], field: str) -> list[int]:
    allowed = {m.pk for m in bundle_materials}
    picked: list[int] = []
    for raw in ids:
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(_("invalid material id"), field=field) from None
        if pk not in allowed:
            raise ValidationFailed(_("this material is not on the bundle's list"), field=field)
        picked.append(pk)
    return sorted(set(picked))


@transaction.atomic
def application_create(
    *,
    user: Any,
    bundle: ServiceBundle,
    point: Area,
    facts: dict[str, Any],
    materials_received: Iterable[int | str] = (),
) -> Application:
    """A draft at a service point in the user's scope: the applicant's name, ID and phone are required."""
    _check_window(user, point)
    if not bundle.is_active:
        raise ValidationFailed(_("this bundle is no longer offered"), field="bundle")
    items = bundle_items(bundle)
    _raise(point_problems(items, point))
    keys = combined_fact_keys(items)
    clean, problems = _split_facts(facts, keys, required=APPLICANT_KEYS)
    _raise(problems)
    now = clock.now()
    application = Application(
        number=f"YJS{clock.today_local():%Y%m%d}{secrets.token_hex(3).upper()}",
        bundle=bundle,
        point=point,
        area_path=point.path,
        created_by=user,
        created_at=now,
        materials_received=_material_ids(combined_materials(items), materials_received, "materials_received"),
    )
    _store_facts(application, clean)
    application.save()
    return application


@transaction.atomic
def application_update(
    *,
    user: Any,
    application: Application,
    facts: dict[str, Any] | None = None,
    materials_received: Iterable[int | str] | None = None,
) -> Application:
    """Correct a draft (or a returned application) before it goes (back) to the departments."""
    _check_window(user, application.point)
    if application.state not in (AppState.DRAFT, AppState.RETURNED):
        raise ValidationFailed(_("only drafts and returned applications can change"), field="state")
    items = bundle_items(application.bundle)
    if facts is not None:
        clean, problems = _split_facts(facts, combined_fact_keys(items), required=())
        _raise(problems)
        _store_facts(application, clean)
    if materials_received is not None:
        ids = _material_ids(combined_materials(items), materials_received, "materials_received")
        application.materials_received = sorted(set(application.materials_received) | set(ids))
    _move(
        application,
        [application.state],
        applicant_name=application.applicant_name,
        applicant_phone=application.applicant_phone,
        applicant_id_enc=application.applicant_id_enc,
        applicant_id_hash=application.applicant_id_hash,
        facts=application.facts,
        materials_received=application.materials_received,
    )
    return application


@transaction.atomic
def application_verify_identity(
    *, user: Any, application: Application, method: str, id_number_read: str = ""
) -> Application:
    """One identity check per application; a card reader's number must be the applicant's own."""
    _check_window(user, application.point)
    if method not in IdentityMethod.values:
        raise ValidationFailed(_("choose how the identity was checked"), field="identity_method")
    if application.state != AppState.DRAFT:
        raise ValidationFailed(_("the identity was checked at acceptance"), field="identity_method")
    if id_number_read and lookup_hash(id_number_read.strip().upper()) != application.applicant_id_hash:
        raise ValidationFailed(_("the ID card read does not belong to the applicant"), field="id_number")
    _move(
        application,
        [AppState.DRAFT],
        identity_method=method,
        identity_verified_at=clock.now(),
        identity_verified_by=user,
    )
    return application


@transaction.atomic
def application_submit(
    *,
    user: Any,
    application: Application,
    deferred: Iterable[int | str] = (),
    deficiency_note: str = "",
) -> Application:
    """Accept at the window (一次受理): every fact valid, every material in or promised (容缺), identity checked.

    Then one task per item goes to its department at once (并联办理), with the bundle's working-day limit.
    """
    _check_window(user, application.point)
    if application.state != AppState.DRAFT:
        raise ValidationFailed(_("only a draft can be submitted"), field="state")
    bundle = application.bundle
    items = bundle_items(bundle)
    problems = point_problems(items, application.point)
    # Facts: everything the combined form asks, checked again as stored (a draft may be partial).
    current = {
        **reveal(application.facts),
        "applicant_name": application.applicant_name,
        "phone": application.applicant_phone,
        "id_number": _applicant_id(application),
    }
    fact_problems = clean_facts(combined_fact_keys(items), current, today=clock.today_local())[1]
    problems += fact_problems
    # Materials: each on the combined list is received, or promised under 容缺受理 if it may be.
    materials = combined_materials(items)
    deferred_ids = _material_ids(materials, deferred, "materials_deferred")
    received = set(application.materials_received)
    for material in materials:
        if material.pk in received:
            continue
        if material.pk in deferred_ids:
            if not material.deferrable:
                problems.append(
                    _problem(
                        "not_deferrable",
                        _("'%(name)s' is essential and cannot be supplied later"),
                        "materials_deferred",
                        name=material.name,
                    )
                )
            continue
        problems.append(
            _problem("missing_material", _("material missing: %(name)s"), "materials_received", name=material.name)
        )
    if deferred_ids and not deficiency_note.strip():
        problems.append(
            _problem(
                "note_required", _("accepting with a material to follow needs a note of the promise"), "deficiency_note"
            )
        )
    if application.identity_verified_at is None:
        problems.append(_problem("identity_unchecked", _("the applicant's identity is not checked"), "identity_method"))
    _raise(problems)
    now = clock.now()
    figures = figures_for(items)
    _move(
        application,
        [AppState.DRAFT],
        state=AppState.SUBMITTED,
        submitted_at=now,
        limit_days=figures.days,
        due_at=workdays.add_working_days(now, figures.days),
        materials_deferred=[pk for pk in deferred_ids if pk not in received],
        deficiency_note=capped_text(deficiency_note, 300),
    )
    ApplicationTask.objects.bulk_create(
        [
            ApplicationTask(
                application=application,
                item=item,
                department_id=item.department_id,
                position=i,
                due_at=workdays.add_working_days(now, item.time_limit_days),
            )
            for i, item in enumerate(items)
        ]
    )
    return application


def _applicant_id(application: Application) -> str:
    return decrypt(application.applicant_id_enc)


@transaction.atomic
def application_receive_material(
    *, user: Any, application: Application, material_ids: Iterable[int | str]
) -> Application:
    """A material promised under 容缺受理 is handed in before the results are issued."""
    _check_window(user, application.point)
    if application.state not in (AppState.SUBMITTED, AppState.IN_PROGRESS, AppState.RETURNED):
        raise ValidationFailed(_("this application no longer takes materials"), field="state")
    ids = _material_ids(combined_materials(bundle_items(application.bundle)), material_ids, "materials_received")
    received = sorted(set(application.materials_received) | set(ids))
    _move(
        application,
        [application.state],
        materials_received=received,
        materials_deferred=[pk for pk in application.materials_deferred if pk not in received],
    )
    return application


@transaction.atomic
def application_resupply(
    *,
    user: Any,
    application: Application,
    facts: dict[str, Any] | None = None,
    materials_received: Iterable[int | str] = (),
) -> Application:
    """After a return for missing material, the window records what was supplied and the tasks start again."""
    _check_window(user, application.point)
    if application.state != AppState.RETURNED:
        raise ValidationFailed(_("this application was not returned"), field="state")
    application_update(user=user, application=application, facts=facts, materials_received=materials_received)
    returned = list(application.tasks.filter(state=TaskState.RETURNED))
    if not returned:
        raise ValidationFailed(_("no department task was returned"), field="state")
    for task in returned:
        # Back to the queue; the reason stays on the row as the record of what was asked.
        _move(task, [TaskState.RETURNED], state=TaskState.PENDING)
    accepted = application.tasks.exclude(state=TaskState.PENDING).exists()
    _move(application, [AppState.RETURNED], state=AppState.IN_PROGRESS if accepted else AppState.SUBMITTED)
    return application


@transaction.atomic
def application_issue(*, user: Any, application: Application) -> Application:
    """Issue every result together (一次送达): only when every department's task is done and nothing is owed."""
    _check_window(user, application.point)
    if application.state != AppState.IN_PROGRESS:
        raise ValidationFailed(_("only an application in progress can be issued"), field="state")
    open_tasks = [t.item.name for t in application.tasks.select_related("item") if t.state != TaskState.DONE]
    if open_tasks:
        raise ValidationFailed(
            _("not every department is done: %(tasks)s"), params={"tasks": Listed(open_tasks)}, field="tasks"
        )
    if application.materials_deferred:
        names = list(Material.objects.filter(pk__in=application.materials_deferred).values_list("name", flat=True))
        raise ValidationFailed(
            _("materials promised are not yet handed in: %(names)s"),
            params={"names": Listed(names)},
            field="materials_deferred",
        )
    now = clock.now()
    assert application.submitted_at is not None
    _move(
        application,
        [AppState.IN_PROGRESS],
        state=AppState.ISSUED,
        issued_at=now,
        issued_by=user,
        elapsed_days=round(workdays.working_days_between(application.submitted_at, now), 3),
    )
    return application
