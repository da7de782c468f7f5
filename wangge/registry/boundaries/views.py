"""The boundary page (city administrators): upload, preview on the map with every problem, then import.

Both steps are import jobs of kind boundaries run by the background worker (reading and checking a
city's 32,000 grids takes longer than a web request may): the upload queues a preview job (options
preview: read and check, nothing written; the map's polygons kept beside the upload), whose page shows
the map and every problem; confirming a clean preview queues the import of the same file (checked
again: the tree may have changed meanwhile), whose page shows the counts or every feature's problem.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files import File
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.files import refuse_oversized_upload
from wangge.registry.boundaries.basemap import base_layer, mbtiles_tile
from wangge.registry.boundaries.forms import BoundaryUploadForm
from wangge.registry.importing.jobs import import_job_create
from wangge.registry.importing.selectors import import_cities, import_job_get, import_job_list
from wangge.registry.models import ImportJob

BOUNDARIES = ImportJob.Kind.BOUNDARIES
OPTIONS = ("code_field", "datum", "encoding")


@login_required
def boundary_index(request: HttpRequest) -> HttpResponse:
    cities = import_cities(user=request.user, kind=BOUNDARIES)  # city administrators only
    limit = settings.BOUNDARY_IMPORT_MAX_BYTES
    context: dict[str, Any] = {"max_mb": limit // (1024 * 1024)}
    status = 200
    form = BoundaryUploadForm(cities=cities)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _confirm(request)
    if request.method == "POST":
        refuse_oversized_upload(request, limit)
        form = BoundaryUploadForm(request.POST, request.FILES, cities=cities)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            job = import_job_create(
                user=request.user,
                city=data["city"],
                upload=data["file"],
                kind=BOUNDARIES,
                options={key: data[key] for key in OPTIONS} | {"preview": True},
            )
            return redirect("registry:import_job", pk=job.pk)
    context["form"] = form
    jobs = import_job_list(user=request.user, kind=BOUNDARIES)
    context["page"] = Paginator(jobs, 20).get_page(request.GET.get("page"))
    return render(request, "registry/boundaries.html", context, status=status)


def _confirm(request: HttpRequest) -> HttpResponse:
    """Queue the import of a clean, finished preview's file; its page follows the worker."""
    try:
        pk = int(request.POST.get("job", ""))
    except ValueError:
        pk = 0
    preview = import_job_get(user=request.user, pk=pk, kinds=(BOUNDARIES,))
    options = preview.options or {}
    if not options.get("preview") or preview.status != ImportJob.Status.DONE or not preview.file:
        raise ValidationFailed(_("the previewed file is no longer waiting; upload it again"), field="file")
    path = Path(preview.file.path)
    if not path.exists():
        raise ValidationFailed(_("the previewed file is no longer waiting; upload it again"), field="file")
    with path.open("rb") as handle:
        job = import_job_create(
            user=request.user,
            city=preview.city,
            upload=File(handle, name=preview.original_name),
            kind=BOUNDARIES,
            options={key: options[key] for key in OPTIONS if key in options},
        )
    return redirect("registry:import_job", pk=job.pk)


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
