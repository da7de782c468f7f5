"""The urls `bench_intake.py` serves with gunicorn (settings: bench/intake_settings.py): the real API
beside two bare views that calibrate it.

- /bare/echo/: parse the JSON body, answer JSON: the cost of Django itself through the same stack;
- /bare/insert/: the same, plus one parameterised INSERT of a demand row in its own transaction: the
  ceiling of any intake that writes a row (the budget's "bare insert view").
"""

from __future__ import annotations

import functools
import json
import uuid

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.api import api
from wangge.core import clock
from wangge.registry.models import Area


@functools.cache
def _grid(code: str) -> tuple[int, str]:
    area = Area.objects.get(code=code)
    return area.pk, area.path


def _echo(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    return JsonResponse({"ok": True, "echo": data.get("title", "")}, status=201)


def _insert(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    grid_pk, grid_path = _grid(data["grid"])
    now = clock.now()
    token = uuid.uuid4().hex
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO demands_demand (code, tracking_token, short_code, kind, channel, urgency, title, description,"
            " address, reporter_name, reporter_phone, area_id, area_path, holder_area_id, holder_path,"
            " holder_level, state, version, warning, escalations, highest_level, resolution, rating_reason,"
            " created_at, updated_at, accept_due_at, resolve_due_at)"
            " VALUES (%s, %s, %s, 'help', 'api', 'normal', %s, %s, '', '', %s, %s, %s, %s, %s, 'grid',"
            " 'submitted', 1, 'none', 0, 'grid', '', '', %s, %s, %s, %s) RETURNING id",
            [
                "RAW-" + token[:24],
                token,
                token[:16],
                data["title"],
                data["description"],
                data["reporter_phone"],
                grid_pk,
                grid_path,
                grid_pk,
                grid_path,
                now,
                now,
                now,
                now,
            ],
        )
        pk = cur.fetchone()[0]
    return JsonResponse({"id": pk}, status=201)


urlpatterns = [
    path("bare/echo/", csrf_exempt(_echo)),
    path("bare/insert/", csrf_exempt(_insert)),
    path("api/v1/", api.urls),
]
