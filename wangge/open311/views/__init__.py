"""Open311 GeoReport v2 endpoints (docs/api.md): discovery, services, requests, tokens, request updates.

Every view answers in the format of its extension, and every failure in the spec's error document
with the HTTP status the spec asks for (404 unknown thing, 403 key, 400 anything else; 429 when a
client goes over its rate). GETs need no key unless the city turned public reads off.

`describe` answers discovery and the service list, `requests_read` the reads of requests, tokens
and updates, `requests_write` a posted request; `_common` holds the error handling and the key.
"""

from __future__ import annotations

from wangge.open311.views._common import KIND_NAMES, URGENCY_NAMES, open311_view
from wangge.open311.views.describe import SPECIFICATION, discovery, discovery_html, service_definition, services
from wangge.open311.views.requests_read import MAX_SPAN, request_detail, request_updates, token, window
from wangge.open311.views.requests_write import MAX_DESCRIPTION, NOT_PINPOINTED, requests_

__all__ = [
    "KIND_NAMES",
    "MAX_DESCRIPTION",
    "MAX_SPAN",
    "NOT_PINPOINTED",
    "SPECIFICATION",
    "URGENCY_NAMES",
    "discovery",
    "discovery_html",
    "open311_view",
    "request_detail",
    "request_updates",
    "requests_",
    "service_definition",
    "services",
    "token",
    "window",
]
