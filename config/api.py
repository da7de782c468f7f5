"""The JSON API under /api/v1/: one NinjaAPI, each app adds its router (wiring only)."""

from __future__ import annotations

from ninja import NinjaAPI

from wangge.core.api import install_error_handlers

api = NinjaAPI(
    title="Wangge API",
    version="1",
    urls_namespace="api-v1",
    description="网格 Wangge: demands (下单/接单), registry and measures. Errors: {code, message, message_en, field}.",
)
install_error_handlers(api)

# Each app's router is added here, in the direction of DESIGN.md.
from wangge.registry.api import router as registry_router  # noqa: E402

api.add_router("/", registry_router)
