"""The boundary page (city administrators): upload, preview on the map with every problem, then import.

The preview runs `boundary_import(preview=True)` and writes nothing; the file waits in a private
folder under var/ with a random name kept in the session, and the confirmation queues it as an import
job of kind boundaries (`import_job_create`): the background worker runs the same service on it for
real (checking again: the tree may have changed meanwhile) and the job page follows it with a
progress bar, then its counts or every feature's problem. A preview never confirmed is deleted by the
next preview after a day.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files import File
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed, WanggeError
from wangge.registry.boundaries.basemap import base_layer, mbtiles_tile
from wangge.registry.boundaries.forms import BoundaryUploadForm
from wangge.registry.boundaries.services import boundary_import
from wangge.registry.importing.jobs import import_job_create
from wangge.registry.importing.selectors import import_cities, import_job_list
from wangge.registry.models import ImportJob, Level

SESSION_KEY = "boundary_upload"
PREVIEW_FEATURES = 3000  # more polygons than this make the page slow; the counts say the rest


def _folder() -> Path:
    folder = Path(settings.VAR_DIR) / "boundary-uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _prune(older_than_seconds: float = 24 * 3600) -> None:
    """Previews nobody confirmed: their files go after a day (each new preview sweeps)."""
    limit = time.time() - older_than_seconds
    for path in _folder().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _forget(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        (_folder() / pending["token"]).unlink(missing_ok=True)


@login_required
def boundary_index(request: HttpRequest) -> HttpResponse:
    cities = import_cities(user=request.user)  # city administrators only (PermissionDenied otherwise)
    limit = settings.BOUNDARY_IMPORT_MAX_BYTES
    context: dict[str, Any] = {"max_mb": limit // (1024 * 1024)}
    status = 200
    form = BoundaryUploadForm(cities=cities)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _confirm(request, cities)
    if request.method == "POST":
        # Refuse an oversized upload before Django reads (and spools) its body.
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit + 1024 * 1024:
            raise ValidationFailed(
                _("the file is too large: at most %(megabytes)s MB"),
                params={"megabytes": limit // (1024 * 1024)},
                field="file",
                code="too_large",
            )
        form = BoundaryUploadForm(request.POST, request.FILES, cities=cities)
        status = 400
        if form.is_valid():
            _forget(request)
            _prune()
            data = form.cleaned_data
            upload = data["file"]
            content = b"".join(upload.chunks())
            options = {
                "filename": upload.name,
                "code_field": data["code_field"],
                "datum": data["datum"],
                "encoding": data["encoding"],
            }
            try:
                plan = boundary_import(data=content, root=data["city"], preview=True, **options)
            except WanggeError as exc:
                context["error"] = exc
            else:
                status = 200
                context["plan"] = plan
                context["levels"] = [(Level(level).label, n) for level, n in plan.by_level()]
                context["preview"] = _preview_geojson(plan)
                if plan.ok:
                    token = secrets.token_hex(16)
                    (_folder() / token).write_bytes(content)
                    request.session[SESSION_KEY] = {"token": token, "city": data["city"].pk, **options}
    context["form"] = form
    jobs = import_job_list(user=request.user, kind=ImportJob.Kind.BOUNDARIES)
    context["page"] = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "registry/boundaries.html", context, status=status)


def _confirm(request: HttpRequest, cities: Any) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or request.POST.get("token") != pending["token"]:
        raise ValidationFailed(_("the previewed file is no longer waiting; upload it again"), field="file")
    city = cities.filter(pk=pending["city"]).first()
    path = _folder() / pending["token"]
    if city is None or not path.exists():
        _forget(request)
        raise ValidationFailed(_("the previewed file is no longer waiting; upload it again"), field="file")
    try:
        with path.open("rb") as handle:
            job = import_job_create(
                user=request.user,
                city=city,
                upload=File(handle, name=Path(pending["filename"]).name),
                kind=ImportJob.Kind.BOUNDARIES,
                options={key: pending[key] for key in ("code_field", "datum", "encoding")},
            )
    finally:
        _forget(request)
    messages.success(request, _("The boundaries are queued: the background worker imports them; this page follows it."))
    return redirect("registry:import_job", pk=job.pk)


def _preview_geojson(plan: Any) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": p.geometry,
                "properties": {"code": p.code, "name": p.name, "level": p.level},
            }
            for p in plan.planned[:PREVIEW_FEATURES]
        ],
    }


@login_required
def base_layer_view(request: HttpRequest) -> JsonResponse:
    """The towns and villages of the user's cities for the map's base layer (works with no tile server)."""
    response = JsonResponse(base_layer(user=request.user))
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def tile_view(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    """A tile of the county's MBTiles file, with an ETag and a day of caching (tiles change when the file does)."""
    if z > 22 or x >= (1 << z) or y >= (1 << z):
        raise Http404
    found = mbtiles_tile(z, x, y)
    if found is None:
        raise Http404
    data, kind = found
    etag = '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=kind)
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=86400"
    return response
