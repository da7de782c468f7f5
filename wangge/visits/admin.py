"""Back office: visits and opinions are read here, scoped like every list; writes go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from wangge.accounts.scope import scope_for
from wangge.visits.models import Opinion, Visit


class ReadOnlyScoped(admin.ModelAdmin):
    """Nothing is added, changed or deleted here; only rows inside the user's scope are listed."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(scope_for(request.user).area_q("area_path"))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OpinionInline(admin.TabularInline):
    model = Opinion
    extra = 0
    can_delete = False
    fields = ("text", "category", "state", "answer", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(ReadOnlyScoped):
    list_display = ("visited_at", "household", "grid", "how", "visitor", "demand")
    list_filter = ("how",)
    list_select_related = ("household", "grid", "visitor", "demand")
    search_fields = ("household__head_name", "household__address", "notes")
    date_hierarchy = "visited_at"
    inlines = [OpinionInline]
    fields = ("visitor", "household", "grid", "visited_at", "how", "notes", "demand", "created_at")
    readonly_fields = fields


@admin.register(Opinion)
class OpinionAdmin(ReadOnlyScoped):
    list_display = ("text", "category", "state", "household", "created_at")
    list_filter = ("state", "category")
    list_select_related = ("household",)
    search_fields = ("text", "answer")
    fields = ("visit", "household", "text", "category", "state", "answer", "answered_by", "answered_at", "created_at")
    readonly_fields = fields
