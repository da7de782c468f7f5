"""The grid registry: the five-level area tree, departments, people and households."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wangge.core.masking import mask_phone


class Level(models.TextChoices):
    """The five linked levels (五级联动), top to bottom."""

    CITY = "city", _("City")
    TOWN = "town", _("Town / street")
    VILLAGE = "village", _("Village / community")
    BRANCH = "branch", _("Party branch / group")
    GRID = "grid", _("Micro-grid")


class Datum(models.TextChoices):
    """The datum of a stored point or boundary (the conversions: `wangge.core.geodesy`).

    CGCS2000 is kept as the source named it but treated as WGS-84: they differ by centimetres.
    """

    WGS84 = "wgs84", _("WGS-84 (GPS, survey)")
    CGCS2000 = "cgcs2000", _("CGCS2000 (survey)")
    GCJ02 = "gcj02", _("GCJ-02 (WeChat, Amap, Tencent)")
    BD09 = "bd09", _("BD-09 (Baidu)")


LEVEL_ORDER: list[str] = [Level.CITY, Level.TOWN, Level.VILLAGE, Level.BRANCH, Level.GRID]
LEVEL_DEPTH: dict[str, int] = {level: i for i, level in enumerate(LEVEL_ORDER)}
PARENT_LEVEL: dict[str, str | None] = {
    Level.CITY: None,
    Level.TOWN: Level.CITY,
    Level.VILLAGE: Level.TOWN,
    Level.BRANCH: Level.VILLAGE,
    Level.GRID: Level.BRANCH,
}


class Area(models.Model):
    """A node of the area tree; its materialised path makes "this and below" one prefix filter.

    `path` is the codes from the city down, each followed by "/" (so `430181/` never matches
    `4301810/`). `household_count` is kept by the registry services: on a grid, its households;
    above, the sum below.
    """

    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    code = models.CharField(
        _("code"), max_length=32, unique=True, help_text=_("National division code where one exists")
    )
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    area_path_fields = ("path",)  # rewritten by area_move, with every copy elsewhere
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    number = models.PositiveIntegerField(
        _("number"), null=True, blank=True, help_text=_("Grid number inside its branch")
    )
    leader = models.ForeignKey(
        "registry.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_areas",
        verbose_name=_("leader"),
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    # The datum the boundary's coordinates are in; the bulk import writes settings.WANGGE_BOUNDARY_DATUM.
    boundary_datum = models.CharField(
        _("boundary datum"), max_length=10, choices=Datum.choices, default=Datum.WGS84, db_default=Datum.WGS84
    )
    centre_lat = models.FloatField(_("centre latitude"), null=True, blank=True)
    centre_lng = models.FloatField(_("centre longitude"), null=True, blank=True)
    household_count = models.PositiveIntegerField(_("households"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "path"], name="area_level_path")]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="area_unique_name_in_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def parent_path(self) -> str:
        parts = self.path.rstrip("/").split("/")
        return "/".join(parts[:-1]) + "/" if len(parts) > 1 else ""

    def ancestor_paths(self) -> list[str]:
        """Paths of this area and each ancestor, top first."""
        parts = self.path.rstrip("/").split("/")
        return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


class Department(models.Model):
    """A functional department (职能部门) that receives work no area level can do."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="departments", verbose_name=_("city"))
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class CareTag(models.TextChoices):
    """Care tags grid leaders watch (the list is open: importers accept these words)."""

    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind children")
    LOW_INCOME = "low_income", _("Low income")
    DISABLED = "disabled", _("Disabled")


# Chinese words found in county spreadsheets for each tag.
CARE_TAG_WORDS: dict[str, str] = {
    "独居老人": CareTag.ELDERLY_ALONE,
    "空巢老人": CareTag.ELDERLY_ALONE,
    "留守儿童": CareTag.LEFT_BEHIND_CHILD,
    "低保户": CareTag.LOW_INCOME,
    "低保": CareTag.LOW_INCOME,
    "残疾人": CareTag.DISABLED,
    "残疾": CareTag.DISABLED,
}


class Person(models.Model):
    """A resident or cadre, possibly a party member; grid leaders are people first."""

    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    id_number_enc = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    is_party_member = models.BooleanField(_("party member"), default=False)
    party_joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    branch = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("party branch"),
        limit_choices_to={"level": Level.BRANCH},
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [models.Index(fields=["name", "phone"], name="person_name_phone")]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class Household(models.Model):
    """A household (户); belongs to exactly one micro-grid, which holds at most 30."""

    grid = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("micro-grid"),
        limit_choices_to={"level": Level.GRID},
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    # Stable identity for re-imports: the head's ID hash, or village + address + head name.
    key = models.CharField(max_length=64, unique=True, editable=False)
    address = models.CharField(_("address"), max_length=200)
    head_name = models.CharField(_("head of household"), max_length=50)
    head_id_number_enc = models.TextField(_("head's ID number (encrypted)"), blank=True, editable=False)
    head_id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    members = models.PositiveSmallIntegerField(_("members"), default=1)
    # Care tags as ",tag,tag," so one `contains` filter works on SQLite and PostgreSQL alike.
    care_tags = models.CharField(_("care tags"), max_length=200, blank=True, default="")
    # Kept on record (and in its grid) after the family left, or after its head died: the grid leader
    # says so, the history keeps when and who.
    moved_out = models.BooleanField(_("moved out"), default=False, db_default=False)
    head_deceased = models.BooleanField(_("head deceased"), default=False, db_default=False)
    # Raised by every edit through `household_update` (a conditional UPDATE on it): of two leaders
    # editing at once, the second is told someone else was first, and nothing of theirs is written.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["grid_id", "id"]

    def __str__(self) -> str:
        return f"{self.head_name} · {self.address}"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.care_tags.split(",") if t]

    def tag_labels(self) -> list[str]:
        labels = dict(CareTag.choices)
        return [str(labels.get(t, t)) for t in self.tag_list]


def tags_to_column(tags: list[str] | set[str]) -> str:
    """Store care tags as ',a,b,' (sorted, unique) or '' when none."""
    clean = sorted({t for t in tags if t})
    return "," + ",".join(clean) + "," if clean else ""


class MemberStatus(models.TextChoices):
    LIVING = "living", _("Lives here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class HouseholdMember(models.Model):
    """A person of the household besides its head, as the grid leader knows them (no ID number is kept).

    Written only by `household_update`, with the household's version; never deleted, a person who left or
    died keeps their line with that status.
    """

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="people", verbose_name=_("household")
    )
    name = models.CharField(_("name"), max_length=50)
    relation = models.CharField(_("relation to the head"), max_length=20, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.LIVING)
    created_at = models.DateTimeField(_("added at"))

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["household_id", "id"]

    def __str__(self) -> str:
        return self.name


class ChangeKind(models.TextChoices):
    """What a line of a household's history records."""

    EDIT = "edit", _("Edited")
    VISIT = "visit", _("Updated on a visit")
    MOVE_PROPOSED = "move_proposed", _("Move to another grid proposed")
    MOVE_APPROVED = "move_approved", _("Move approved")
    MOVE_REFUSED = "move_refused", _("Move refused")
    IMPORT = "import", _("Updated by a register import")


class HouseholdChange(models.Model):
    """One line of a household's history: who, when, and each field from what to what.

    Written only by the register services (`registry.services.register`), in the same transaction as
    the change itself. ID numbers appear here masked, never in clear or encrypted.
    """

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="changes", verbose_name=_("household")
    )
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ChangeKind.choices)
    # [{"field": "phone", "old": "138****1111", "new": "139****2222"}, …]: display values, masked.
    fields = models.JSONField(_("fields"), default=list)
    version = models.PositiveIntegerField(_("version"), default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="household_changes",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("household change")
        verbose_name_plural = _("household changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["household", "changed_at"], name="householdchange_household_at")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.kind} {self.changed_at:%Y-%m-%d}"


class MoveState(models.TextChoices):
    PENDING = "pending", _("Waiting for the village")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class HouseholdMoveRequest(models.Model):
    """A grid leader's proposal to move a household to another grid of its village; the village decides."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="move_requests", verbose_name=_("household")
    )
    from_grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("from grid"))
    to_grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("to grid"))
    # The household's path when proposed: the village that decides covers it.
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    state = models.CharField(_("state"), max_length=10, choices=MoveState.choices, default=MoveState.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("household move request")
        verbose_name_plural = _("household move requests")
        ordering = ["proposed_at", "id"]
        constraints = [
            # One open proposal per household: a second leader's proposal waits for the first decision.
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(state="pending"), name="householdmove_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} → {self.to_grid_id} ({self.state})"


class ImportJob(models.Model):
    """One uploaded file imported by the background worker; seen only within its city, by its kind's roles.

    The upload only queues the job; the background worker (`manage.py run_worker`, hook
    `wangge.registry.importing.jobs.import_jobs_run`) claims it and runs the runner of its `kind`
    (settings.WANGGE_IMPORT_RUNNERS), and the page polls the progress counters. `errors` holds the
    problems found (sheet, row, column, Chinese and English message) as a JSON list.
    """

    class Kind(models.TextChoices):
        REGISTRY = "registry", _("Household register")
        BOUNDARIES = "boundaries", _("Boundaries")
        HOTLINE = "hotline", _("12345 hotline orders")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused: nothing written")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.REGISTRY)
    city = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="import_jobs", verbose_name=_("city"))
    area_path_fields = ("area_path",)  # rewritten by registry area_move
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    keep_good = models.BooleanField(_("keep the good rows"), default=False)
    # What the runner needs beyond the file (boundaries: code attribute, datum, encoding).
    options = models.JSONField(_("options"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(_("stage"), max_length=10, blank=True, default="")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Set by the worker that claimed the job; `attempts` also fences a swept run's late result.
    worker = models.CharField(max_length=100, blank=True, default="", editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    # Last sign of life written to the row; during the write transaction the worker beats in a
    # file beside the upload instead (SQLite's single write lock is held by the import itself).
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("registry import")
        verbose_name_plural = _("registry imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="importjob_status_created")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
