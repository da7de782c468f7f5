"""Back office: the open list of facility types and their checklists; facilities and inspections read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.facilities.models import ChecklistItem, Facility, FacilityDirector, FacilityType, Inspection
from wangge.facilities.selectors import visible_q


class ChecklistInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    fields = ("code", "name", "category_code", "sort", "is_active")


@admin.register(FacilityType)
class FacilityTypeAdmin(admin.ModelAdmin):
    """Types are reference data: administrators add types and checklist items (the list is open)."""

    list_display = ("code", "name", "category_code", "is_active", "sort")
    inlines = [ChecklistInline]


class _ReadOnly(admin.ModelAdmin):
    """Written only through the services (pages, API, commands); scoped like every list."""

    scope_prefix = ""

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(visible_q(request.user, self.scope_prefix))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Facility)
class FacilityAdmin(_ReadOnly):
    list_display = ("code", "name", "facility_type", "area", "department", "is_active")
    list_filter = ("facility_type", "is_active")
    search_fields = ("code", "name", "address")


@admin.register(FacilityDirector)
class FacilityDirectorAdmin(_ReadOnly):
    scope_prefix = "facility__"
    list_display = ("facility", "level", "name", "rule_count", "rule_period", "since", "is_active")
    list_filter = ("level", "rule_period", "is_active")
    exclude = ("phone",)


@admin.register(Inspection)
class InspectionAdmin(_ReadOnly):
    scope_prefix = "facility__"
    list_display = ("facility", "director", "at", "result")
    list_filter = ("result",)
    date_hierarchy = "at"
