"""Files the staff pages serve: a demand's photos and the grids' QR codes and printable sheets."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render

from wangge.core.errors import NotFound, ValidationFailed
from wangge.core.links import public_base
from wangge.demands import qrcodes, selectors
from wangge.demands.models import DemandPhoto
from wangge.demands.views._common import SHEET_LEVELS, _serve_photo
from wangge.registry import selectors as registry_selectors
from wangge.registry.models import Area, Level


@login_required
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A demand's photo for staff who may see the demand (never a public media URL)."""
    item = DemandPhoto.objects.filter(pk=pk).only("id", "demand_id", "image").first()
    if item is None:
        raise NotFound("找不到照片", "photo not found")
    selectors.demand_get(user=request.user, pk=item.demand_id)  # NotFound outside the user's scope
    return _serve_photo(item)


@login_required
def grid_qr(request: HttpRequest, pk: int) -> HttpResponse:
    """The PNG QR code of one grid in the user's scope."""
    grid = registry_selectors.area_get(user=request.user, pk=pk)
    if grid.level != Level.GRID:
        raise NotFound("只有微网格有二维码", "only micro-grids have a QR code")
    response = HttpResponse(qrcodes.grid_qr_png(grid), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="grid-{grid.code}.png"'
    return response


@login_required
def grid_qr_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Printable A4 sheets, one per grid of a village or branch: name, leader, QR, instruction."""
    area = registry_selectors.area_get(user=request.user, pk=pk)
    if area.level not in SHEET_LEVELS:
        raise ValidationFailed(
            "请选择一个村（社区）或党支部来打印二维码",
            "Choose a village or a party branch to print QR codes",
            field="area",
        )
    grids = registry_selectors.area_list(user=request.user, level=Level.GRID).filter(path__startswith=area.path)
    sheets = [{"grid": g, "svg": qrcodes.grid_qr_svg(g), "url": qrcodes.grid_report_url(g)} for g in grids]
    # Town and village names above the grids (public names, printed on every sheet).
    above = list(
        Area.objects.filter(path__in=area.ancestor_paths(), level__in=(Level.TOWN, Level.VILLAGE)).order_by("depth")
    )
    context = {"area": area, "sheets": sheets, "above": above, "public_base": public_base()}
    return render(request, "demands/qr_sheet.html", context)
