"""The notification outbox: rows written in the caller's transaction, delivered later by the worker.

The outbox knows no domain: a message has a channel, a recipient and text, plus the area path it
concerns so that administrators see only their city's messages.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.core.masking import mask_phone
from wangge.core.phones import normalise_phone


class Channel(models.TextChoices):
    """How a message travels; each channel has one backend chosen in settings.NOTIFY_BACKENDS."""

    LOG = "log", _("Log")
    WEBHOOK = "webhook", _("Webhook")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")
    WECHAT_MP = "wechat_mp", _("WeChat official account")


class State(models.TextChoices):
    """Where a message is in its delivery: pending → sending → sent, or failed (retried) → dead."""

    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead (gave up)")


class OutboxMessage(models.Model):
    """One message to deliver at least once; written with the change it reports, so none is lost or invented."""

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # A phone, a user id like "user:12", a WeCom member "wecom:zhangsan", a URL or an endpoint name.
    recipient = models.CharField(_("recipient"), max_length=500)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    kind = models.CharField(_("kind"), max_length=64, blank=True, db_index=True)
    # Only for scoping the administrators' page; "" means no area (superusers only).
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(_("area path"), max_length=255, blank=True, db_index=True)
    # A repeated key writes nothing: callers that may run twice (retries, sweeps) pass one.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, null=True, blank=True, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=100, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The worker's claim: due messages by state, oldest due first.
            models.Index(fields=["state", "next_attempt_at"], name="outbox_state_due"),
            # The administrators' page: newest first inside an area prefix.
            models.Index(fields=["area_path", "created_at"], name="outbox_area_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.channel} {self.kind or self.subject}"

    @property
    def is_trouble(self) -> bool:
        return self.state in (State.FAILED, State.DEAD)

    @property
    def recipient_display(self) -> str:
        """The recipient as pages show it: phone numbers masked (rule: phones are masked on every list)."""
        parts = [p.strip() for p in self.recipient.split(",")]
        if all(normalise_phone(p).isdigit() and len(normalise_phone(p)) >= 7 for p in parts):
            return ",".join(mask_phone(normalise_phone(p)) for p in parts)
        return self.recipient


class DeliveryAttempt(models.Model):
    """One try to deliver a message, kept so administrators see why a message failed."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="delivery_attempts")
    number = models.PositiveIntegerField(_("attempt number"))
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("ok"))
    status_code = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    worker = models.CharField(_("worker"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["message_id", "at", "id"]

    def __str__(self) -> str:
        return f"#{self.message_id} try {self.number}: {'ok' if self.ok else 'failed'}"
