"""Demands (诉求): the work order a resident places (下单) and a holder takes (接单), with its events.

Rules kept by the models: states are a closed set; every change is a `DemandEvent` row that is
never updated; deadlines are stored columns with partial indexes over open demands so that the
worker's sweep reads only what is due; public codes and tracking tokens are unique.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wangge.core.links import new_short_code
from wangge.core.masking import mask_phone


class Kind(models.TextChoices):
    """Kinds of demand as on the national 12345 hotline (Tianjin adds praise)."""

    CONSULTATION = "consultation", _("Consultation")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    REPORT = "report", _("Report")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Channel(models.TextChoices):
    """How a demand came in; every channel goes through the one intake service."""

    RESIDENT_WEB = "resident_web", _("Resident page")
    WECHAT_GROUP = "wechat_group", _("WeChat group")
    WECHAT = "wechat", _("WeChat official account")
    VISIT = "visit", _("Household visit")
    HOTLINE = "hotline", _("Hotline")
    INSPECTION = "inspection", _("Inspection")
    API = "api", _("API")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class State(models.TextChoices):
    """The closed set of states (docs/glossary.md); moves between them live in transitions.py."""

    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    ESCALATED = "escalated", _("Escalated")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged")
    REOPENED = "reopened", _("Reopened")


# Open: someone must still act (accept or resolve). The sweep indexes cover exactly these.
OPEN_STATES: tuple[str, ...] = (State.SUBMITTED, State.IN_PROGRESS, State.ESCALATED, State.REOPENED)
# Waiting for the current holder to accept (the limit to accept runs).
WAITING_STATES: tuple[str, ...] = (State.SUBMITTED, State.ESCALATED, State.REOPENED)
FINAL_STATES: tuple[str, ...] = (State.CLOSED, State.REJECTED, State.MERGED)


class WarningLevel(models.TextChoices):
    NONE = "none", _("None")
    YELLOW = "yellow", _("Yellow: near the limit")
    RED = "red", _("Red: past the limit")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class ResolveUnit(models.TextChoices):
    HOURS = "hours", _("Hours")
    WORKING_DAYS = "working_days", _("Working days")


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
    reporter_name = models.CharField(_("reporter"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    # The reporter's openid in the county's WeChat official account (公众号): state changes reach them there.
    reporter_wechat_openid = models.CharField(max_length=64, blank=True, editable=False)
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
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates")
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
        holder resolves the demand again."""
        return self.state in (State.RESOLVED, State.CLOSED)

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


class ActorKind(models.TextChoices):
    STAFF = "staff", _("Staff")
    RESIDENT = "resident", _("Resident")
    SYSTEM = "system", _("System")


class DemandEvent(models.Model):
    """One move in a demand's life; append-only (services only insert, nobody updates or deletes)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="demand_events"
    )
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices, default=ActorKind.STAFF)
    action = models.CharField(_("action"), max_length=16)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    from_holder = models.CharField(max_length=100, blank=True)
    to_holder = models.CharField(max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    is_public = models.BooleanField(default=True)
    # A public move whose note is internal (an escalation's reason, unless staff chose to show it): the
    # resident sees the move and not the note. Staff pages and keyed API readers see every note.
    note_public = models.BooleanField(default=True)
    # Set when a follower (not the reporter) wrote it: the reporter's page must not call it "You".
    follower = models.ForeignKey(
        "demands.DemandFollower", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        verbose_name = _("demand event")
        verbose_name_plural = _("demand events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="demandevent_demand_at")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.action} {self.from_state}→{self.to_state}"


class DemandPhoto(models.Model):
    """A cleaned photo (EXIF stripped) of a demand or of one of its events (e.g. the result)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(DemandEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    image = models.ImageField(upload_to="demands/%Y/%m/")
    uploaded_at = models.DateTimeField()
    by_resident = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.image.name


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    STAFF = "staff", _("Staff only")


class DemandComment(models.Model):
    """A remark by a resident (always public) or staff (public or staff-only)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="demand_comments"
    )
    by_resident = models.BooleanField(default=False)
    body = models.TextField(_("comment"))
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.STAFF)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


class DemandFollower(models.Model):
    """A resident who reported the same problem follows an open demand by a token of their own and is told
    when it is resolved; the reporter and followers of a demand merged away become followers of its target."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="followers", verbose_name=_("demand"))
    phone = models.CharField(_("phone"), max_length=20)
    # Unguessable like the reporter's tracking token, but a different one: a follower can read the public
    # timeline and comment, never rate or add information in the reporter's name.
    token = models.CharField(max_length=64, unique=True, editable=False)
    short_code = models.CharField(max_length=16, unique=True, editable=False, default=new_short_code)
    # The demand that was merged into `demand` when this row was made by a merge (else empty).
    merged_from = models.ForeignKey(
        Demand, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("merged from")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["demand", "phone"], name="demandfollower_demand_phone")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.phone_masked}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class LookupCode(models.Model):
    """A one-time SMS code that proves a phone reported or follows a demand ("find my demand", 查询我的诉求).

    Only its keyed hash is stored; it expires, and counts the wrong codes typed against it.
    """

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="+", verbose_name=_("demand"))
    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lookup code")
        verbose_name_plural = _("lookup codes")
        indexes = [models.Index(fields=["demand", "phone", "-created_at"], name="lookupcode_pair")]

    def __str__(self) -> str:
        return f"{self.demand_id} {mask_phone(self.phone)}"


# Channels whose residents did not file on the resident page: they may never open the tracking link to
# rate, so a resolved demand of theirs is called back (回访) by phone.
CALL_BACK_CHANNELS: tuple[str, ...] = tuple(c for c in Channel.values if c != Channel.RESIDENT_WEB)


class CallBack(models.Model):
    """One phone call back (回访) to the reporter of a resolved demand, reached or not; never updated."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="call_backs", verbose_name=_("demand"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("called by")
    )
    reached = models.BooleanField(_("reached"))
    # Both empty when the reporter was not reached: the call only records the attempt.
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction.choices, null=True, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("call back")
        verbose_name_plural = _("call backs")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["demand", "at"], name="callback_demand_at")]

    def __str__(self) -> str:
        return f"{self.demand_id} {self.at:%Y-%m-%d %H:%M}"
