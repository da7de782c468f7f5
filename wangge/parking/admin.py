"""Back office: tariffs edited in plain lines (saved by tariff_save), lots by the lot services, stays read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.accounts.scope import scope_for
from wangge.core.errors import WanggeError, render_both
from wangge.parking import selectors, services
from wangge.parking.fees import yuan
from wangge.parking.forms import TariffAdminForm
from wangge.parking.models import ParkingAnomaly, ParkingLot, ParkingSession, Tariff


def _city_admin(request: HttpRequest) -> bool:
    scope = scope_for(request.user)
    return scope.is_global or (scope.role == "city_admin" and not scope.read_only)


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    form = TariffAdminForm
    list_display = ("name", "free_minutes", "steps_short", "cap", "peak", "valid_from", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name", "valid_from", "is_active", "notes")}),
        ("收费规则 Rules", {"fields": ("free_minutes", "free_deducted", "steps_text", "day_cap_yuan")}),
        (
            "高峰与夜间 Peak and night",
            {
                "fields": (
                    "peak_windows_text",
                    "peak_days",
                    "peak_multiplier_pct",
                    "peak_steps_text",
                    "night_start",
                    "night_end",
                    "night_yuan_per_hour",
                )
            },
        ),
    )

    @admin.display(description="阶梯 Steps")
    def steps_short(self, obj: Tariff) -> str:
        return "；".join(f"{s.label()} {yuan(s.fen_per_hour)}元/时" for s in obj.rules().steps)

    @admin.display(description="日封顶 Day cap")
    def cap(self, obj: Tariff) -> str:
        return obj.day_cap_yuan or "—"

    @admin.display(description="高峰 Peak")
    def peak(self, obj: Tariff) -> str:
        rules = obj.rules()
        return "、".join(w.label() for w in rules.peak_windows) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tariff]:
        return selectors.tariff_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.parking_allowed(user=request.user) and super().has_module_permission(request)

    # Tariffs are city-wide prices: only the city's administrators change them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return _city_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _city_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return selectors.parking_allowed(user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # lots and past stays refer to it; set it inactive instead

    def save_model(self, request: HttpRequest, obj: Tariff, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.tariff_save(
            rules=form.rules,
            valid_from=data["valid_from"],
            tariff=obj if change else None,
            name=data["name"],
            is_active=data.get("is_active", True),
            notes=data.get("notes", ""),
        )
        obj.pk = saved.pk


@admin.register(ParkingLot)
class ParkingLotAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "zone", "capacity", "area", "operator", "tariff", "is_active")
    list_filter = ("zone", "kind", "is_active")
    search_fields = ("name", "address")
    fields = ("name", "kind", "zone", "capacity", "area", "address", "lat", "lng", "operator", "tariff", "is_active")
    raw_id_fields = ("area",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ParkingLot]:
        return selectors.lot_list(user=request.user, include_inactive=True)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.parking_allowed(user=request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return selectors.parking_allowed(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _city_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _city_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ParkingLot, form: Any, change: bool) -> None:
        # A refused change raises a WanggeError, which the middleware shows in both languages.
        data = {k: form.cleaned_data.get(k) for k in self.fields}
        if change:
            services.lot_update(lot=obj, **data)
        else:
            data.pop("is_active", None)
            obj.pk = services.lot_create(**data).pk


@admin.register(ParkingSession)
class ParkingSessionAdmin(admin.ModelAdmin):
    list_display = ("plate", "lot", "entered_at", "exited_at", "fee", "state", "source", "over_capacity")
    list_filter = ("state", "source", "over_capacity")
    search_fields = ("plate",)
    date_hierarchy = "entered_at"
    actions = ["void_selected"]

    @admin.display(description="费用 Fee")
    def fee(self, obj: ParkingSession) -> str:
        return obj.fee_yuan

    def get_queryset(self, request: HttpRequest) -> QuerySet[ParkingSession]:
        return selectors.session_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.parking_allowed(user=request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return selectors.parking_allowed(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entries come through parking_entry (gates, wardens), never typed in here

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Void the selected stays (recorded in error)"), permissions=["view"])
    def void_selected(self, request: HttpRequest, queryset: QuerySet[ParkingSession]) -> None:
        done = 0
        # The stored reason is written in Chinese, like every stored note.
        reason = render_both(_("voided in the admin (recorded in error)"))[0]
        for session in queryset:
            if not selectors.can_record(user=request.user, lot=session.lot):
                self.message_user(
                    request,
                    f"{session.plate}: " + " / ".join(render_both(pgettext_lazy("voiding a stay", "not allowed"))),
                    messages.WARNING,
                )
                continue
            try:
                services.parking_session_void(session=session, reason=reason, actor=request.user)
                done += 1
            except WanggeError as exc:
                self.message_user(request, f"{session.plate}: {exc}", messages.WARNING)
        voided = render_both(_("%(count)s voided"), {"count": done})
        self.message_user(request, " / ".join(voided), messages.SUCCESS)


@admin.register(ParkingAnomaly)
class ParkingAnomalyAdmin(admin.ModelAdmin):
    list_display = ("at", "lot", "plate", "kind", "source", "event_id")
    list_filter = ("kind", "source")
    search_fields = ("plate", "event_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ParkingAnomaly]:
        return selectors.anomaly_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.parking_allowed(user=request.user) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return selectors.parking_allowed(user=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
