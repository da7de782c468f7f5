"""Back office: topics are read-only here (the services are their only writers)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wangge.accounts.scope import scope_for
from wangge.governance.models import GovernanceTopic, ProactiveTask
from wangge.governance.selectors import topic_visible_q


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GovernanceTopic)
class GovernanceTopicAdmin(_ReadOnly):
    list_display = ("title", "area", "department", "due_on", "state", "created_at")
    list_filter = ("state",)
    search_fields = ("title",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(topic_visible_q(scope_for(request.user)))


@admin.register(ProactiveTask)
class ProactiveTaskAdmin(_ReadOnly):
    list_display = ("source", "topic", "facility", "demand", "opened_at")
    list_filter = ("source",)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).filter(scope_for(request.user).area_q("area_path"))
