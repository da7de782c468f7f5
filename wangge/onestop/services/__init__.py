"""The only writers of one-stop services: the catalogue, applications and the departments' tasks.

Each move of an application or a task is a conditional UPDATE on its state and version, so two
staff acting on the same thing at once give exactly one winner and one clear Conflict.
"""

from __future__ import annotations

from wangge.onestop.services._common import WINDOW_ROLES
from wangge.onestop.services.applications import (
    POINT_LEVELS,
    application_create,
    application_issue,
    application_receive_material,
    application_resupply,
    application_submit,
    application_update,
    application_verify_identity,
    point_problems,
)
from wangge.onestop.services.catalogue import material_create, service_bundle_create, service_item_create
from wangge.onestop.services.tasks import task_accept, task_complete, task_return

__all__ = [
    "POINT_LEVELS",
    "WINDOW_ROLES",
    "application_create",
    "application_issue",
    "application_receive_material",
    "application_resupply",
    "application_submit",
    "application_update",
    "application_verify_identity",
    "material_create",
    "point_problems",
    "service_bundle_create",
    "service_item_create",
    "task_accept",
    "task_complete",
    "task_return",
]
