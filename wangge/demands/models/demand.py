"""The catalogue of categories, the daily code counter and the demand itself."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.links import new_short_code
from wangge.core.masking import mask_phone
from wangge.demands.models.choices import (
    OPEN_STATES,
    UNFINISHED_STATES,
    WAITING_STATES,
    Channel,
    Kind,
    ResolveUnit,
    Satisfaction,
    State,
    Urgency,
    WarningLevel,
)
from wangge.demands.transitions import CAN_ESCALATE
from wangge.registry.models import Datum


class Category(models.Model):
    """A two-level catalogue entry with its default department and limits to accept and resolve."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级类别"
    )
    default_department = models.ForeignKey(
        "registry.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="default_categories",
        verbose_name="默认承办部门",
    )
    # Accept limits are hours: working hours for normal matters, calendar hours for urgent ones.
    accept_hours_normal = models.PositiveIntegerField("受理时限（一般，工作小时）", default=8)
    accept_hours_urgent = models.PositiveIntegerField("受理时限（紧急，小时）", default=2)
    resolve_value_normal = models.PositiveIntegerField("办结时限（一般）", default=5)
    resolve_value_urgent = models.PositiveIntegerField("办结时限（紧急）", default=1)
    resolve_unit = models.CharField(
        "办结时限单位", max_length=16, choices=ResolveUnit.choices, default=ResolveUnit.WORKING_DAYS
    )
    # 核查: a resolved demand of this category waits for a verifier (the place's grid leader or a supervisor).
    needs_verification = models.BooleanField("办结前需核查", default=False)
    # 网格直派: the grid leader may dispatch straight to a department (a broken pole to the power company).
    grid_may_dispatch = models.BooleanField("网格可直派部门", default=False)
    is_active = models.BooleanField("启用", default=True)
    sort = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "诉求类别"
        verbose_name_plural = "诉求类别"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name


class DemandCounter(models.Model):
    """Last sequence number of public codes per city prefix and local day (no gaps, one row a day)."""

    prefix = models.CharField(max_length=8)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="demandcounter_prefix_day")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.day:%Y%m%d}: {self.last}"


class Demand(models.Model):
    """A resident's problem or request as a work order; only services change it, one move at a time."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    tracking_token = models.CharField(max_length=64, unique=True, editable=False)
    # The short link in every SMS (/t/<short_code>): the tracking token is too long for one SMS segment.
    short_code = models.CharField(max_length=16, unique=True, editable=False, default=new_short_code)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.HELP)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="demands", verbose_name=_("category")
    )
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    # lat/lng are stored in WGS-84, the map's datum; location_datum is the datum the source gave
    # (WeChat GCJ-02, Baidu BD-09, GPS WGS-84): geodesy.convert(lat, lng, "wgs84", location_datum) is
    # the point as it arrived (to a millimetre; Baidu's to centimetres).
    location_datum = models.CharField(
        _("location datum"), max_length=10, choices=Datum.choices, default=Datum.WGS84, db_default=Datum.WGS84
    )
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    # The reporter's openid in the county's WeChat official account (公众号): state changes reach them there.
    reporter_wechat_openid = models.CharField(max_length=64, blank=True, editable=False, db_default="")
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="demands"
    )
    # Where it belongs (grid, or village/town when no grid is known); never changes after intake.
    area = models.ForeignKey("registry.Area", on_delete=models.PROTECT, related_name="demands", verbose_name=_("area"))
    area_path_fields = ("area_path", "holder_path")  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    # The current holder: an area level, or a department dispatched by holder_area.
    holder_area = models.ForeignKey(
        "registry.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="held_demands"
    )
    holder_path = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    holder_level = models.CharField(max_length=10, blank=True, editable=False)
    holder_department = models.ForeignKey(
        "registry.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="held_demands"
    )
    # The last department this demand was dispatched to: its staff keep seeing it after returning it.
    dispatched_department = models.ForeignKey(
        "registry.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="dispatched_demands"
    )
    holder_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="held_demands"
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED)
    version = models.PositiveIntegerField(default=1)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    # When the yellow flag falls due (a share of the resolve window used), stored so it is indexable.
    yellow_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The rulebook's columns carry database defaults too, so bulk loaders (bench/, COPY) that name only
    # the columns they know keep working.
    # The case's deadline (总办结时限): set at intake and moved only by approved extensions (延期) and
    # suspensions (挂起); hand-overs restart the holder's own clock (resolve_due_at), never this one.
    # 按期办结率 measures against it.
    case_due_at = models.DateTimeField(_("case deadline"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    extensions = models.PositiveSmallIntegerField(_("approved extensions"), default=0, db_default=0)
    suspensions = models.PositiveSmallIntegerField(_("approved suspensions"), default=0, db_default=0)
    urges = models.PositiveSmallIntegerField(_("urges"), default=0, db_default=0)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # What the public sees (public pages, the Open311 feed): only text a staff member approved, or the
    # reporter's own words when they agreed to publish them at intake.
    publish_consent = models.BooleanField(_("reporter agreed to publish"), default=False, db_default=False)
    # 是否保密: the reporter asked that the demand stay with its holders (as 12345 orders mark it). Like a
    # report (举报), it is never published, offered as a possible duplicate, or followed (`permissions`).
    confidential = models.BooleanField(_("confidential"), default=False, db_default=False)
    public_text = models.TextField(_("public text"), blank=True, default="", db_default="")
    public_approved_at = models.DateTimeField(_("public text approved at"), null=True, blank=True)
    public_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    warning = models.CharField(_("warning"), max_length=8, choices=WarningLevel.choices, default=WarningLevel.NONE)
    escalations = models.PositiveSmallIntegerField(_("escalations"), default=0)
    highest_level = models.CharField(_("highest level"), max_length=10, blank=True)
    resolution = models.TextField(_("result"), blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, null=True, blank=True
    )
    rating_reason = models.TextField(_("reason of the rating"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    # The resident's own answer to "is the problem solved?" (问题是否解决), given with the first rating;
    # 解决率 counts it.
    rated_solved = models.BooleanField(_("solved, says the resident"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", db_constraint=False, null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    idempotency_key = models.CharField(max_length=128, unique=True, null=True, blank=True, editable=False)
    suggested_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggested_demands"
    )
    suggestion_confidence = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="created_demands"
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's sweeps: each reads only open demands whose limit has passed.
            models.Index(
                fields=["state", "accept_due_at"], name="demand_open_accept_due", condition=Q(state__in=OPEN_STATES)
            ),
            models.Index(
                fields=["state", "resolve_due_at"], name="demand_open_resolve_due", condition=Q(state__in=OPEN_STATES)
            ),
            models.Index(
                fields=["state", "yellow_at"],
                name="demand_open_yellow_due",
                condition=Q(state__in=OPEN_STATES, warning="none"),
            ),
            models.Index(fields=["state", "resolved_at"], name="demand_resolved_at", condition=Q(state="resolved")),
            # The verifiers' reminder (核查): demands waiting since their holder's answer.
            models.Index(
                fields=["state", "resolved_at"], name="demand_verifying_since", condition=Q(state="verifying")
            ),
            # The rollup refresh: open demands whose case deadline (总办结时限) has just passed.
            models.Index(
                fields=["state", "case_due_at"], name="demand_open_case_due", condition=Q(state__in=OPEN_STATES)
            ),
            # The red flag: open demands not flagged red yet, by their limit. A demand flagged red leaves the
            # index, so a pass reads only those that crossed the line since the last one.
            models.Index(
                fields=["resolve_due_at"],
                name="demand_open_unred_due",
                condition=Q(state__in=OPEN_STATES, warning__in=[WarningLevel.NONE, WarningLevel.YELLOW]),
            ),
            # Automatic escalation: waiting demands held by a level that can still climb (not a department,
            # not the city), so the ones that cannot climb are not read again every pass.
            models.Index(
                fields=["accept_due_at"],
                name="demand_escalation_due",
                condition=Q(
                    state__in=WAITING_STATES, holder_department__isnull=True, holder_level__in=sorted(CAN_ESCALATE)
                ),
            ),
            # The queues (my queue, the workbench, the console's queue and "mine"): unfinished demands by holder,
            # in my queue's order (most urgent first), so a holder's first page is read in order and no further.
            # The path column is in pattern order so that a prefix (a town and everything below) is a range.
            models.Index(
                fields=["holder_path", "resolve_due_at", "id"],
                name="demand_unfinished_holder",
                condition=Q(state__in=UNFINISHED_STATES),
                opclasses=["varchar_pattern_ops", "timestamptz_ops", "int8_ops"],
            ),
            models.Index(
                fields=["holder_department", "created_at"],
                name="demand_unfinished_department",
                condition=Q(state__in=UNFINISHED_STATES),
            ),
            # A wide queue (a city, the whole county) newest first: walked backwards, stopping at a page.
            models.Index(
                fields=["created_at", "id"], name="demand_unfinished_created", condition=Q(state__in=UNFINISHED_STATES)
            ),
            models.Index(fields=["holder_path", "state"], name="demand_holder_state"),
            models.Index(fields=["holder_department", "state"], name="demand_holder_dept_state"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def reporter_phone_masked(self) -> str:
        return mask_phone(self.reporter_phone)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def result_is_current(self) -> bool:
        """Whether `resolution` is the answer now: after a reopen (返工) it is the earlier attempt until the
        holder resolves the demand again. While it waits for its verifier (核查) it is the answer being checked."""
        return self.state in (State.RESOLVED, State.CLOSED, State.VERIFYING)

    @property
    def state_label(self) -> str:
        """The state as every badge shows it: an escalated demand held by a department is "dispatched"
        (the state is the same, waiting for the new holder to accept; the words are not)."""
        if self.state == State.ESCALATED and self.holder_department_id:
            return str(_("Dispatched"))
        return str(self.get_state_display())  # type: ignore[attr-defined]

    @property
    def holder_kind(self) -> str:
        """'department' or the level of the holding area ('grid' … 'city')."""
        return "department" if self.holder_department_id else self.holder_level

    @property
    def holder_label(self) -> str:
        if self.holder_department_id and self.holder_department:
            return self.holder_department.name
        if self.holder_area_id and self.holder_area:
            return self.holder_area.name
        return ""
