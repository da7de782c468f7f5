"""Back office: the category catalogue is edited here; demands are only read here (moves go through pages/API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from wangge.demands.models import CallBack, Category, Demand, DemandEvent, DemandRequest
from wangge.demands.permissions import visible_q


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "parent",
        "default_department",
        "accept_hours_normal",
        "accept_hours_urgent",
        "resolve_value_normal",
        "resolve_value_urgent",
        "resolve_unit",
        "grid_may_dispatch",
        "needs_verification",
        "is_active",
        "sort",
    )
    list_filter = ("is_active", "resolve_unit", "grid_may_dispatch", "needs_verification", "parent")
    # 核查: which categories wait for a verifier on site before a resolve counts, set from the list.
    list_editable = ("needs_verification", "is_active", "sort")
    search_fields = ("code", "name")
    ordering = ("sort", "code")


class EventInline(admin.TabularInline):
    """Events are append-only: shown, never added, changed or deleted here."""

    model = DemandEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor", "actor_kind", "from_state", "to_state", "from_holder", "to_holder", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CallBackInline(admin.TabularInline):
    """Call backs (回访) are written by `demand_call_back` only: shown here, never edited."""

    model = CallBack
    extra = 0
    can_delete = False
    fields = ("at", "by", "reached", "solved", "satisfaction", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin):
    """Read-only and scoped like every list: the admin sees only demands inside their scope."""

    list_display = ("code", "title", "state", "holder_name", "urgency", "reporter_phone_masked", "created_at")
    list_filter = ("state", "urgency", "channel", "warning")
    search_fields = ("code", "title")
    list_select_related = ("holder_area", "holder_department")
    inlines = [EventInline, CallBackInline]
    exclude = ("reporter_phone", "tracking_token", "idempotency_key")
    readonly_fields = (
        "code",
        "kind",
        "channel",
        "category",
        "urgency",
        "title",
        "description",
        "address",
        "reporter_name",
        "reporter_phone_masked",
        "area",
        "holder_area",
        "holder_department",
        "holder_user",
        "state",
        "version",
        "accept_due_at",
        "resolve_due_at",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "warning",
        "escalations",
        "highest_level",
        "satisfaction",
        "rating_reason",
        "merged_into",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(description="承办方")
    def holder_name(self, obj: Demand) -> str:
        return obj.holder_label

    @admin.display(description="联系电话")
    def reporter_phone_masked(self, obj: Demand) -> str:
        return obj.reporter_phone_masked

    def get_queryset(self, request: HttpRequest) -> QuerySet[Demand]:
        return super().get_queryset(request).filter(visible_q(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DemandRequest)
class DemandRequestAdmin(admin.ModelAdmin):
    """延期 and 挂起 requests, read only: they are asked and decided on the demand page or the API (one writer)."""

    list_display = ("demand", "kind", "state", "requested_at", "until", "decided_at")
    list_filter = ("kind", "state")
    search_fields = ("demand__code",)
    fields = (
        "demand",
        "kind",
        "reason",
        "until",
        "state",
        "requested_by",
        "requested_at",
        "approver_path",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DemandRequest]:
        visible = Demand.objects.filter(visible_q(request.user)).values("pk")
        return super().get_queryset(request).select_related("demand").filter(demand__in=visible)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
