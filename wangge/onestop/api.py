"""One-stop services API: the catalogue, applications (scoped) and the departments' moves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.core.masking import decrypt, mask_id_number
from wangge.onestop import selectors, services
from wangge.onestop.facts import masked
from wangge.onestop.models import Application, ApplicationTask, ServiceItem
from wangge.onestop.schemas import (
    ApplicationIn,
    ApplicationOut,
    BundleOut,
    CompleteIn,
    ItemOut,
    PublicBundleOut,
    ReturnIn,
    SubmitIn,
    TaskOut,
)

router = Router(tags=["onestop"], auth=STAFF_AUTH)


def _item(item: ServiceItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "code": item.code,
        "name": item.name,
        "department": item.department.name,
        "handle_level": item.handle_level,
        "village_ok": item.village_ok,
        "time_limit_days": item.time_limit_days,
        "fee_fen": item.fee_fen,
        "form_fields": list(item.form_fields),
        "materials": [m.code for m in item.materials.all()],
    }


def _bundle(view: selectors.BundleView) -> dict[str, Any]:
    b = view.bundle
    return {
        "id": b.pk,
        "code": b.code,
        "name": b.name,
        "description": b.description,
        "village_ok": view.village_ok,
        "figures": view.figures.as_dict(),
        "promised": {
            "materials": b.promised_materials,
            "steps": b.promised_steps,
            "days": b.promised_days,
            "fee_fen": b.promised_fee_fen,
        },
        "items": [_item(i) for i in view.items],
        "facts": [
            {"key": f.key, "label": f.zh, "label_en": f.en, "type": f.type, "choices": list(f.choices)}
            for f in view.facts
        ],
        "materials": [
            {"id": m.pk, "code": m.code, "name": m.name, "kind": m.kind, "count": m.count, "deferrable": m.deferrable}
            for m in view.materials
        ],
    }


def _task(task: ApplicationTask) -> dict[str, Any]:
    return {
        "id": task.pk,
        "application_id": task.application_id,
        "item_code": task.item.code,
        "item_name": task.item.name,
        "department": task.department.name,
        "state": task.state,
        "due_at": task.due_at,
        "result": task.result,
        "certificate_number": task.certificate_number,
        "return_reason": task.return_reason,
        # Only the facts this item needs, ID numbers masked: what a department may see.
        "facts": {f.key: v for f, v in selectors.applicant_facts(task.application, list(task.item.form_fields))},
    }


def _application(app: Application) -> dict[str, Any]:
    timing = selectors.timing(app)
    return {
        "id": app.pk,
        "number": app.number,
        "bundle_code": app.bundle.code,
        "point_id": app.point_id,
        "state": app.state,
        "applicant_name": app.applicant_name,
        "phone_masked": app.phone_masked,
        "id_number_masked": mask_id_number(decrypt(app.applicant_id_enc)),
        "facts": masked(app.facts),
        "materials_received": app.materials_received,
        "materials_deferred": app.materials_deferred,
        "identity_method": app.identity_method,
        "created_at": app.created_at,
        "submitted_at": app.submitted_at,
        "due_at": app.due_at,
        "issued_at": app.issued_at,
        "limit_days": app.limit_days,
        "elapsed_days": timing.elapsed_days if timing else None,
        "overdue": timing.overdue if timing else False,
        "tasks": [_task(t) for t in selectors.application_tasks(app)],
    }


@router.get("/onestop/bundles", response=list[BundleOut])
def list_bundles(request: HttpRequest) -> list[dict[str, Any]]:
    return [_bundle(v) for v in selectors.bundle_list()]


@router.get("/onestop/items", response=list[ItemOut], url_name="onestop_items")
def list_items(request: HttpRequest, village_ok: bool | None = None) -> list[dict[str, Any]]:
    return [_item(i) for i in selectors.item_list(village_ok=village_ok)]


@router.get("/onestop/applications", response=list[ApplicationOut])
def list_applications(request: HttpRequest, state: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 500))
    return [_application(a) for a in selectors.application_list(user=request.user, state=state)[:limit]]


@router.get("/onestop/applications/{application_id}", response=ApplicationOut)
def get_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    return _application(selectors.application_get(user=request.user, pk=application_id))


@router.post("/onestop/applications", response={201: ApplicationOut})
def create_application(request: HttpRequest, payload: ApplicationIn) -> Status[dict[str, Any]]:
    """Create a draft; with identity_method and submit=true it is accepted in the same transaction."""
    view = selectors.bundle_get(pk=payload.bundle_id)
    with transaction.atomic():
        point = selectors.point_get(user=request.user, pk=payload.point_id)
        app = services.application_create(
            user=request.user,
            bundle=view.bundle,
            point=point,
            facts=payload.facts,
            materials_received=payload.materials_received,
        )
        if payload.identity_method:
            services.application_verify_identity(
                user=request.user,
                application=app,
                method=payload.identity_method,
                id_number_read=payload.id_number_read,
            )
        if payload.submit:
            services.application_submit(
                user=request.user, application=app, deferred=payload.deferred, deficiency_note=payload.deficiency_note
            )
    return Status(201, _application(selectors.application_get(user=request.user, pk=app.pk)))


@router.post("/onestop/applications/{application_id}/submit", response=ApplicationOut)
def submit_application(request: HttpRequest, application_id: int, payload: SubmitIn) -> dict[str, Any]:
    app = selectors.application_get(user=request.user, pk=application_id)
    with transaction.atomic():
        if payload.materials_received:
            services.application_update(
                user=request.user, application=app, materials_received=payload.materials_received
            )
        if payload.identity_method:
            services.application_verify_identity(
                user=request.user,
                application=app,
                method=payload.identity_method,
                id_number_read=payload.id_number_read,
            )
        services.application_submit(
            user=request.user, application=app, deferred=payload.deferred, deficiency_note=payload.deficiency_note
        )
    return _application(app)


@router.post("/onestop/applications/{application_id}/issue", response=ApplicationOut)
def issue_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    app = selectors.application_get(user=request.user, pk=application_id)
    services.application_issue(user=request.user, application=app)
    return _application(app)


@router.get("/onestop/tasks", response=list[TaskOut])
def list_tasks(request: HttpRequest, state: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    limit = max(1, min(limit, 500))
    return [_task(t) for t in selectors.task_list(user=request.user, state=state)[:limit]]


@router.post("/onestop/tasks/{task_id}/accept", response=TaskOut)
def accept_task(request: HttpRequest, task_id: int) -> dict[str, Any]:
    task = selectors.task_get(user=request.user, pk=task_id)
    return _task(services.task_accept(user=request.user, task=task))


@router.post("/onestop/tasks/{task_id}/complete", response=TaskOut)
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn) -> dict[str, Any]:
    task = selectors.task_get(user=request.user, pk=task_id)
    return _task(
        services.task_complete(
            user=request.user, task=task, result=payload.result, certificate_number=payload.certificate_number
        )
    )


@router.post("/onestop/tasks/{task_id}/return", response=TaskOut)
def return_task(request: HttpRequest, task_id: int, payload: ReturnIn) -> dict[str, Any]:
    task = selectors.task_get(user=request.user, pk=task_id)
    return _task(services.task_return(user=request.user, task=task, reason=payload.reason))


@router.get("/onestop/public/bundles", response=list[PublicBundleOut], auth=None)
def public_bundles(request: HttpRequest) -> list[dict[str, Any]]:
    """No login: figures and average elapsed working days, no personal data."""
    return [
        {
            "code": row["view"].bundle.code,
            "name": row["view"].bundle.name,
            "figures": row["view"].figures.as_dict(),
            "issued": row["issued"],
            "average_elapsed_days": row["avg_days"],
        }
        for row in selectors.public_bundles()
    ]
