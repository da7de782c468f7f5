"""The JSON API under /api/v1/: one NinjaAPI, each app adds its router (wiring only)."""

from __future__ import annotations

from wangge.accounts.api_auth import API_THROTTLE
from wangge.core.api import WanggeAPI, install_error_handlers

api = WanggeAPI(
    title="Wangge API",
    version="1",
    urls_namespace="api-v1",
    description=(
        "网格 Wangge: demands (下单/接单), registry and measures. Errors: {code, message, message_en, field}. "
        "Authenticate with a staff token (`Authorization: Bearer wg_…`) or an integrator's key (`X-Api-Key: wgk_…`, "
        "scoped, permission-checked, rate-limited per minute: 429 when over). Versioning: what is published under "
        "/api/v1/ does not break — fields and routes are only added; a change that would break goes to /api/v2/. "
        "Open311 GeoReport v2 clients use /open311/v2/ (docs/api.md)."
    ),
    throttle=API_THROTTLE,
)
install_error_handlers(api)

# Each app's router is added here, in the direction of docs/architecture.md.
from wangge.registry.api import router as registry_router  # noqa: E402

api.add_router("/", registry_router)
from wangge.demands.api import router as demands_router  # noqa: E402

api.add_router("/", demands_router)
from wangge.demands.api_cohandling import router as demands_cohandling_router  # noqa: E402

api.add_router("/", demands_cohandling_router)
from wangge.parking.api import router as parking_router  # noqa: E402

api.add_router("/parking/", parking_router)
from wangge.onestop.api import router as onestop_router  # noqa: E402

api.add_router("/", onestop_router)
from wangge.triage.api import router as triage_router  # noqa: E402

api.add_router("/", triage_router)
from wangge.visits.api import router as visits_router  # noqa: E402

api.add_router("/", visits_router)
from wangge.facilities.api import router as facilities_router  # noqa: E402

api.add_router("/", facilities_router)
from wangge.projects.api import router as projects_router  # noqa: E402

api.add_router("/", projects_router)
from wangge.opengov.api import router as opengov_router  # noqa: E402

api.add_router("/", opengov_router)
from wangge.governance.api import router as governance_router  # noqa: E402

api.add_router("/", governance_router)
