from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.dashboards.models import ExportJob, PiiAccessLog


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(admin.ModelAdmin):
    """Read-only: the log of unmasked personal data is appended by services, never edited."""

    list_display = ["at", "user", "what", "values", "why"]
    list_filter = ["at"]
    search_fields = ["what", "why", "user__username"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are queued by their owners and written by the worker."""

    list_display = ["id", "user", "kind", "state", "done_rows", "total", "unmasked", "created_at", "finished_at"]
    list_filter = ["state", "kind", "unmasked"]
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
