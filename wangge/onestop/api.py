"""One-stop services API: the catalogue, applications (scoped) and the departments' moves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status

from wangge.accounts.api_auth import STAFF_AUTH
from wangge.onestop import selectors, services
from wangge.onestop.models import Application, ApplicationTask, ServiceItem
from wangge.onestop.schemas import (
    ApplicationIn,
    ApplicationOut,
    BundleOut,
    CompleteIn,
    PublicBundleOut,
    ServiceItemOut,
    SubmitIn,
    TaskOut,
    TaskReturnIn,
)

router = Router(tags=["onestop"], auth=STAFF_AUTH)


@router.get("/onestop/bundles", response=list[BundleOut])
def list_bundles(request: HttpRequest) -> list[selectors.BundleView]:
    return selectors.bundle_list()


@router.get("/onestop/items", response=list[ServiceItemOut], url_name="onestop_items")
def list_items(request: HttpRequest, village_ok: bool | None = None) -> QuerySet[ServiceItem]:
    return selectors.item_list(village_ok=village_ok)


@router.get("/onestop/applications", response=list[ApplicationOut])
def list_applications(request: HttpRequest, state: str | None = None, limit: int = 50) -> list[Application]:
    limit = max(1, min(limit, 500))
    return list(selectors.application_list(user=request.user, state=state)[:limit])


@router.get("/onestop/applications/{application_id}", response=ApplicationOut)
def get_application(request: HttpRequest, application_id: int) -> Application:
    return selectors.application_get(user=request.user, pk=application_id)


@router.post("/onestop/applications", response={201: ApplicationOut})
def create_application(request: HttpRequest, payload: ApplicationIn) -> Status[Application]:
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
    return Status(201, selectors.application_get(user=request.user, pk=app.pk))


@router.post("/onestop/applications/{application_id}/submit", response=ApplicationOut)
def submit_application(request: HttpRequest, application_id: int, payload: SubmitIn) -> Application:
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
    return app


@router.post("/onestop/applications/{application_id}/issue", response=ApplicationOut)
def issue_application(request: HttpRequest, application_id: int) -> Application:
    app = selectors.application_get(user=request.user, pk=application_id)
    services.application_issue(user=request.user, application=app)
    return app


@router.get("/onestop/tasks", response=list[TaskOut])
def list_tasks(request: HttpRequest, state: str | None = None, limit: int = 100) -> list[ApplicationTask]:
    limit = max(1, min(limit, 500))
    return list(selectors.task_list(user=request.user, state=state)[:limit])


@router.post("/onestop/tasks/{task_id}/accept", response=TaskOut)
def accept_task(request: HttpRequest, task_id: int) -> ApplicationTask:
    task = selectors.task_get(user=request.user, pk=task_id)
    return services.task_accept(user=request.user, task=task)


@router.post("/onestop/tasks/{task_id}/complete", response=TaskOut)
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn) -> ApplicationTask:
    task = selectors.task_get(user=request.user, pk=task_id)
    return services.task_complete(
        user=request.user, task=task, result=payload.result, certificate_number=payload.certificate_number
    )


@router.post("/onestop/tasks/{task_id}/return", response=TaskOut)
def return_task(request: HttpRequest, task_id: int, payload: TaskReturnIn) -> ApplicationTask:
    task = selectors.task_get(user=request.user, pk=task_id)
    return services.task_return(user=request.user, task=task, reason=payload.reason)


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
