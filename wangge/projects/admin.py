"""Back office: projects and reports are read-only here (the services are their only writers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.accounts.scope import scope_for
from wangge.projects.models import LivelihoodProject, ProgressReport


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(scope_for(request.user).area_q("area_path"))


@admin.register(LivelihoodProject)
class LivelihoodProjectAdmin(_ReadOnly):
    list_display = ("code", "name", "year", "domain", "target", "unit", "achieved", "deadline", "department")
    list_filter = ("year", "domain")
    search_fields = ("code", "name")


@admin.register(ProgressReport)
class ProgressReportAdmin(_ReadOnly):
    list_display = ("project", "period", "achieved_to_date", "increment", "state", "reported_at", "checked_at")
    list_filter = ("state",)
