"""Smart parking (智慧停车): lots, tiered tariffs, parking sessions and gate anomalies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.parking.fees import PeakWindow, Step, TariffRules, yuan
from wangge.registry.models import Datum


class LotKind(models.TextChoices):
    ON_STREET = "on_street", _("On-street")
    SURFACE = "surface", _("Surface lot")
    MULTI_STOREY = "multi_storey", _("Multi-storey")


class Zone(models.TextChoices):
    """Pricing zones: the core pays most, so that its spaces turn over (一类/二类/三类区域)."""

    CORE = "core", _("Core zone")
    PEAK = "peak", _("Peak zone")
    ORDINARY = "ordinary", _("Ordinary zone")


class Source(models.TextChoices):
    GATE = "gate", _("Gate")
    WARDEN = "warden", _("Warden")


class SessionState(models.TextChoices):
    OPEN = "open", _("Parked")
    CLOSED = "closed", _("Left")
    VOID = "void", _("Void")


class Tariff(models.Model):
    """A published fee schedule: free minutes, rising hourly steps, peak and night prices, a day cap (fen)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    free_minutes = models.PositiveSmallIntegerField(_("free minutes"), default=15)
    free_deducted = models.BooleanField(
        _("free time deducted"), default=False, help_text=_("Charge only the time after the free minutes")
    )
    # [{"from_minute": 0, "to_minute": 60, "fen_per_hour": 200, "unit_minutes": 30}, …], ordered, last open.
    steps = models.JSONField(_("steps"), default=list)
    day_cap_fen = models.PositiveIntegerField(_("day cap (fen)"), null=True, blank=True)
    peak_windows = models.JSONField(_("peak windows"), default=list, blank=True)
    peak_multiplier_pct = models.PositiveSmallIntegerField(_("peak multiplier (%)"), default=100)
    peak_steps = models.JSONField(_("peak steps"), default=list, blank=True)
    night_start = models.TimeField(_("night starts"), null=True, blank=True)
    night_end = models.TimeField(_("night ends"), null=True, blank=True)
    night_fen_per_hour = models.PositiveIntegerField(_("night price per hour (fen)"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def rules(self) -> TariffRules:
        return TariffRules(
            steps=tuple(Step(**s) for s in self.steps),
            free_minutes=self.free_minutes,
            free_deducted=self.free_deducted,
            day_cap_fen=self.day_cap_fen,
            peak_windows=tuple(
                PeakWindow(dt.time.fromisoformat(w["start"]), dt.time.fromisoformat(w["end"]), w.get("days", "workday"))
                for w in self.peak_windows
            ),
            peak_multiplier_pct=self.peak_multiplier_pct,
            peak_steps=tuple(Step(**s) for s in self.peak_steps),
            night_start=self.night_start,
            night_end=self.night_end,
            night_fen_per_hour=self.night_fen_per_hour,
            name=self.name,
        )

    @property
    def day_cap_yuan(self) -> str:
        return yuan(self.day_cap_fen) if self.day_cap_fen is not None else ""


class ParkingLot(models.Model):
    """A parking lot or a run of on-street spaces, inside one town or village (its scope)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=LotKind.choices)
    capacity = models.PositiveIntegerField(_("spaces"))
    zone = models.CharField(_("zone"), max_length=20, choices=Zone.choices, default=Zone.ORDINARY)
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # Stored in WGS-84; the datum the point came in (`registry.points.stored_point`).
    location_datum = models.CharField(
        _("datum of the location"), max_length=10, choices=Datum.choices, default=Datum.WGS84, db_default="wgs84"
    )
    area = models.ForeignKey(
        "registry.Area", on_delete=models.PROTECT, related_name="parking_lots", verbose_name=_("town or village")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    operator = models.ForeignKey(
        "registry.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="parking_lots",
        verbose_name=_("operating department"),
    )
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="lots", verbose_name=_("tariff"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("parking lot")
        verbose_name_plural = _("parking lots")
        ordering = ["area_path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="parkinglot_unique_name_in_area"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="parkinglot_capacity_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ParkingSession(models.Model):
    """One car's stay in one lot; a plate is parked at most once per lot, and an event id is applied once."""

    lot = models.ForeignKey(ParkingLot, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("lot"))
    plate = models.CharField(_("plate"), max_length=10, db_index=True)
    entered_at = models.DateTimeField(_("entered at"))
    exited_at = models.DateTimeField(_("left at"), null=True, blank=True)
    minutes = models.PositiveIntegerField(_("minutes parked"), null=True, blank=True)
    fee_fen = models.PositiveIntegerField(_("fee (fen)"), null=True, blank=True)
    breakdown = models.JSONField(_("fee explained"), null=True, blank=True)
    source = models.CharField(_("entry recorded by"), max_length=10, choices=Source.choices)
    exit_source = models.CharField(_("exit recorded by"), max_length=10, choices=Source.choices, blank=True)
    entry_event_id = models.CharField(_("entry event id"), max_length=64)
    exit_event_id = models.CharField(_("exit event id"), max_length=64, null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=SessionState.choices, default=SessionState.OPEN)
    over_capacity = models.BooleanField(_("entered when full"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField(_("reason voided"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("parking session")
        verbose_name_plural = _("parking sessions")
        ordering = ["-entered_at", "-id"]
        constraints = [
            # The database, not only the service, refuses a second open stay of one plate in one lot.
            models.UniqueConstraint(
                fields=["lot", "plate"], condition=Q(state="open"), name="parkingsession_one_open_per_plate"
            ),
            # A gate that retries sends the same event id: at most one stay per id and lot.
            models.UniqueConstraint(fields=["lot", "entry_event_id"], name="parkingsession_unique_entry_event"),
            models.UniqueConstraint(
                fields=["lot", "exit_event_id"],
                condition=Q(exit_event_id__isnull=False),
                name="parkingsession_unique_exit_event",
            ),
            models.CheckConstraint(
                condition=Q(exited_at__isnull=True) | Q(exited_at__gte=models.F("entered_at")),
                name="parkingsession_exit_after_entry",
            ),
        ]
        indexes = [
            models.Index(fields=["lot", "entered_at"], name="parking_sess_lot_entered"),
            models.Index(fields=["lot", "exited_at"], name="parking_sess_lot_exited"),
            models.Index(fields=["lot", "state"], name="parking_sess_lot_state"),
        ]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.lot_id}"

    @property
    def fee_yuan(self) -> str:
        return yuan(self.fee_fen) if self.fee_fen is not None else ""

    @property
    def explanation(self) -> list[dict[str, Any]]:
        return list((self.breakdown or {}).get("lines", []))


class AnomalyKind(models.TextChoices):
    EXIT_WITHOUT_ENTRY = "exit_without_entry", _("Exit without entry")


class ParkingAnomaly(models.Model):
    """An event that matched no stay (an exit with no entry), kept so that someone looks into it."""

    lot = models.ForeignKey(ParkingLot, on_delete=models.PROTECT, related_name="anomalies", verbose_name=_("lot"))
    kind = models.CharField(_("kind"), max_length=30, choices=AnomalyKind.choices)
    plate = models.CharField(_("plate"), max_length=10)
    at = models.DateTimeField(_("at"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    event_id = models.CharField(_("event id"), max_length=64)
    message = models.CharField(_("message"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("parking anomaly")
        verbose_name_plural = _("parking anomalies")
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lot", "event_id"], name="parkinganomaly_unique_event")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.plate}"
