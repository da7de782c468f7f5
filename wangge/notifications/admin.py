"""Back office: the outbox read-only, scoped like the outbox page; requeueing goes through outbox_retry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from wangge.core.errors import WanggeError
from wangge.notifications import selectors, services
from wangge.notifications.models import DeliveryAttempt, OutboxMessage


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "at", "ok", "status_code", "duration_ms", "error", "worker")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "created_at",
        "channel",
        "kind",
        "masked_recipient",
        "subject",
        "state",
        "attempts",
        "last_error",
    )
    list_filter = ("state", "channel", "kind")
    search_fields = ("subject", "kind", "dedupe_key")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = [DeliveryAttemptInline]
    actions = ["retry_selected"]
    exclude = ("recipient",)
    readonly_fields = (
        "channel",
        "masked_recipient",
        "subject",
        "body",
        "payload",
        "kind",
        "area_path",
        "dedupe_key",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "claimed_by",
        "claimed_at",
        "sent_at",
        "created_at",
    )

    @admin.display(description="接收人 Recipient")
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return obj.recipient_display

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        # The same scoping as the page: the admin is not a way around it.
        return selectors.outbox_list(user=request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return selectors.outbox_allowed(user=request.user) and super().has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="重新发送所选的失败通知 Retry the selected failed or dead messages", permissions=["view"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        done = 0
        for message in queryset:
            try:
                services.outbox_retry(message=message)
                done += 1
            except WanggeError as exc:
                self.message_user(request, f"#{message.pk}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} 条已重新排队 / {done} requeued", messages.SUCCESS)
