"""The departments' parallel tasks of a submitted application: accept, complete, return."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from wangge.core import clock
from wangge.core.errors import ValidationFailed
from wangge.core.text import capped_text
from wangge.onestop.models import Application, ApplicationTask, AppState, TaskState
from wangge.onestop.services._common import _check_department, _move


@transaction.atomic
def task_accept(*, user: Any, task: ApplicationTask) -> ApplicationTask:
    """A department takes its part; the application is then in progress."""
    _check_department(user, task)
    _move(task, [TaskState.PENDING], state=TaskState.ACCEPTED, accepted_at=clock.now(), accepted_by=user)
    Application.objects.filter(pk=task.application_id, state=AppState.SUBMITTED).update(
        state=AppState.IN_PROGRESS, version=F("version") + 1
    )
    return task


@transaction.atomic
def task_complete(
    *, user: Any, task: ApplicationTask, result: str = "", certificate_number: str = ""
) -> ApplicationTask:
    """A department finishes its part with its result; the first of two staff completing at once wins."""
    _check_department(user, task)
    if task.state == TaskState.PENDING:
        raise ValidationFailed(_("accept the task before completing it"), field="state")
    if not (result.strip() or certificate_number.strip()):
        raise ValidationFailed(_("give the result or the certificate number"), field="result")
    _move(
        task,
        [TaskState.ACCEPTED],
        state=TaskState.DONE,
        completed_at=clock.now(),
        completed_by=user,
        result=capped_text(result, 300),
        certificate_number=capped_text(certificate_number, 60),
    )
    return task


@transaction.atomic
def task_return(*, user: Any, task: ApplicationTask, reason: str) -> ApplicationTask:
    """A department sends the application back to the window for a missing or wrong material, with a reason."""
    _check_department(user, task)
    if not reason.strip():
        raise ValidationFailed(_("give the reason for the return"), field="return_reason")
    _move(
        task,
        [TaskState.PENDING, TaskState.ACCEPTED],
        state=TaskState.RETURNED,
        returned_at=clock.now(),
        return_reason=capped_text(reason, 300),
    )
    Application.objects.filter(pk=task.application_id, state__in=[AppState.SUBMITTED, AppState.IN_PROGRESS]).update(
        state=AppState.RETURNED, version=F("version") + 1
    )
    return task
