"""Back office for the catalogue; applications are read-only here (the services are their only writers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.accounts.scope import scope_for
from wangge.onestop.models import Application, Material, ServiceBundle, ServiceItem


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "count", "deferrable")
    search_fields = ("code", "name")


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "department",
        "handle_level",
        "village_ok",
        "time_limit_days",
        "fee_fen",
        "is_active",
    )
    list_filter = ("village_ok", "handle_level", "is_active")
    search_fields = ("code", "name")


@admin.register(ServiceBundle)
class ServiceBundleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ("number", "bundle", "point", "state", "submitted_at", "issued_at")
    list_filter = ("state", "bundle")
    exclude = ("applicant_id_enc", "applicant_phone", "facts")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(scope_for(request.user).area_q("area_path"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
