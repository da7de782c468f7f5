"""Back office: the domain list is edited here; items are read-only (the services are their only writers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.accounts.scope import scope_for
from wangge.opengov.models import DisclosureDomain, DisclosureItem


@admin.register(DisclosureDomain)
class DisclosureDomainAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "ordering", "is_active")
    list_editable = ("ordering", "is_active")


@admin.register(DisclosureItem)
class DisclosureItemAdmin(admin.ModelAdmin):
    list_display = ("title", "area", "domain", "state", "published_at", "next_due_at", "overdue_since")
    list_filter = ("state", "level", "domain")
    search_fields = ("title", "responsible_unit")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(scope_for(request.user).area_q("area_path"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
