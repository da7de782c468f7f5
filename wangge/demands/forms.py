"""Input of the demand pages: the resident's report, staff intake, and one small form per move.

Forms check the shape of what was typed (required, length, a phone that looks like one, a
category or grid that exists) and say so in Chinese and English next to the field; the rules of
the demand's life (who may act, what routes where) stay in the services, whose errors the views
put next to the same fields.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core import signing
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import ValidationFailed
from wangge.core.phones import clean_phone
from wangge.core.photos import MAX_PHOTOS
from wangge.demands.models import Category, Channel, Demand, Kind, Satisfaction, Urgency, Visibility
from wangge.demands.permissions import demand_holder_candidates
from wangge.registry.models import Area, Department, Level

# Where a service's error `field` is shown on the pages (service names → form field names).
FIELD_ALIASES: dict[str, str] = {
    "reporter_phone": "phone",
    "reporter_name": "name",
    "lat": "place",
    "lng": "place",
    "location": "place",
    "point": "place",
    "grid": "place",
    "area": "place",
    "household": "place",
    "address": "place",
    "photo": "photos",
    "image": "photos",
    "result": "result",
    "resolution": "result",
    "to_area": "to_area",
    "to_user": "to_user",
    "department": "department",
    "into": "into",
    "text": "text",
    "satisfaction": "satisfaction",
    "rating_reason": "reason",
}


def model_field(form: forms.Form, name: str) -> forms.ModelChoiceField:
    """A form's model choice field, typed (its queryset is set per demand or per user)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


def both(zh: str, en: str) -> str:
    """One bilingual message, Chinese first, as every error a person reads."""
    return f"{zh} / {en}"


def required(zh: str, en: str) -> dict[str, str]:
    return {"required": both(zh, en)}


def too_long(max_length: int) -> dict[str, str]:
    return {"max_length": both(f"最多 {max_length} 个字", f"At most {max_length} characters")}


def make_title(description: str, limit: int = 30) -> str:
    """A title from the first sentence of what the resident wrote (they are not asked for one)."""
    text = " ".join(description.split())
    for stop in "。！？!?\n":
        if stop in text:
            text = text.split(stop, 1)[0]
    return text[:limit] or description[:limit]


def category_groups() -> list[dict[str, Any]]:
    """Active categories for a select: one group per first level, its own code first ("other")."""
    groups: list[dict[str, Any]] = []
    parents = Category.objects.filter(parent__isnull=True, is_active=True).prefetch_related("children")
    for parent in parents.order_by("sort", "code"):
        children = sorted((c for c in parent.children.all() if c.is_active), key=lambda c: (c.sort, c.code))
        options = [(c.code, c.name) for c in children] + [(parent.code, f"{parent.name}（其他）")]
        groups.append({"name": parent.name, "options": options})
    return groups


def clean_category_code(code: str) -> Category | None:
    if not code:
        return None
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise forms.ValidationError(both("未知的诉求类别，请重新选择", "Unknown category; please choose again"))
    return category


def clean_phone_value(raw: str, *, required_: bool) -> str:
    """`core.phones.clean_phone`, its refusal shown next to the form field."""
    try:
        return clean_phone(
            raw,
            required=required_,
            missing=_("Please give a phone number so that staff can reach you"),
        )
    except ValidationFailed as exc:
        raise forms.ValidationError(both(exc.zh, exc.en)) from None


class PlaceMixin(forms.Form):
    """A place: a grid (from a QR code or the list), a village or town, or a point from the phone."""

    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    address = forms.CharField(required=False, max_length=300, error_messages=too_long(300))

    def clean_lat(self) -> float | None:
        return self._coordinate("lat")

    def clean_lng(self) -> float | None:
        return self._coordinate("lng")

    def _coordinate(self, name: str) -> float | None:
        value = self.cleaned_data.get(name)
        return None if value is None else float(value)

    def clean_point(self, cleaned: dict[str, Any]) -> None:
        lat, lng = cleaned.get("lat"), cleaned.get("lng")
        if (lat is None) != (lng is None):
            self.add_error("place", both("定位不完整，请重新定位", "The location is incomplete; please locate again"))


class ReportForm(PlaceMixin):
    """What a resident types on the public page (no account)."""

    RESIDENT_KINDS = [
        (Kind.HELP, "求助 Help"),
        (Kind.COMPLAINT, "投诉 Complaint"),
        (Kind.CONSULTATION, "咨询 Question"),
        (Kind.SUGGESTION, "建议 Suggestion"),
        (Kind.REPORT, "举报 Report"),
        (Kind.PRAISE, "表扬 Praise"),
    ]

    phone = forms.CharField(max_length=20, error_messages=required("请填写手机号码", "Please give your phone number"))
    name = forms.CharField(required=False, max_length=50, error_messages=too_long(50))
    kind = forms.ChoiceField(choices=RESIDENT_KINDS, initial=Kind.HELP, required=False)
    category = forms.CharField(required=False, max_length=32)
    description = forms.CharField(
        max_length=2000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            **required("请描述您遇到的问题", "Please describe the problem"),
            **too_long(2000),
            "min_length": both("请多写几个字，说清楚问题", "Please write a few more words about the problem"),
        },
    )
    urgent = forms.BooleanField(required=False)
    grid = forms.CharField(required=False, max_length=32)
    town = forms.IntegerField(required=False)
    village = forms.IntegerField(required=False)
    # A fresh key per rendered page: a double tap or a resend on a slow network files one demand.
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    place = forms.CharField(required=False)  # holds errors about the place; the inputs are above
    photos = forms.Field(required=False)  # holds errors about photos; the files come in request.FILES
    # Set once the resident has seen the demands nearby that look the same and still adds theirs.
    add_anyway = forms.BooleanField(required=False)

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("phone", ""), required_=True)

    def clean_category(self) -> Category | None:
        return clean_category_code(self.cleaned_data.get("category") or "")

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or Kind.HELP

    def clean_idempotency_key(self) -> str | None:
        key = (self.cleaned_data.get("idempotency_key") or "").strip()
        if not key:
            return None
        try:
            return "web-" + str(uuid.UUID(key))
        except ValueError:
            return None  # a mangled key only loses the duplicate protection, never the report

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.clean_point(cleaned)
        grid_code = (cleaned.get("grid") or "").strip()
        cleaned["grid_area"] = cleaned["area"] = None
        if grid_code:
            grid = Area.objects.filter(code=grid_code, level=Level.GRID).first()
            if grid is None:
                self.add_error(
                    "place",
                    both("找不到该网格，请从列表中选择", "That grid was not found; please choose from the list"),
                )
            cleaned["grid_area"] = grid
        elif cleaned.get("village"):
            cleaned["area"] = Area.objects.filter(pk=cleaned["village"], level=Level.VILLAGE).first()
        elif cleaned.get("town"):
            cleaned["area"] = Area.objects.filter(pk=cleaned["town"], level=Level.TOWN).first()
        has_point = cleaned.get("lat") is not None and cleaned.get("lng") is not None
        if not grid_code and cleaned["area"] is None and not has_point and "place" not in self.errors:
            self.add_error(
                "place",
                both("请选择所在位置，或点击“使用我的位置”", "Please choose where it is, or tap “Use my location”"),
            )
        return cleaned


# A follow button carries the offered demand signed by us: a resident can follow only what was offered
# to them (codes are sequential; a typed code must not open anyone's timeline), for a couple of hours.
FOLLOW_SALT = "wangge.demands.follow-offer"
FOLLOW_OFFER_SECONDS = 2 * 3600


def follow_offer(demand_pk: int) -> str:
    """The signed value of a "follow this one" button for an offered duplicate."""
    return signing.TimestampSigner(salt=FOLLOW_SALT).sign(str(demand_pk))


def follow_offer_pk(value: str) -> int:
    """The demand an offer names, or ValidationFailed when it was altered or is too old."""
    from wangge.core.errors import ValidationFailed

    try:
        return int(signing.TimestampSigner(salt=FOLLOW_SALT).unsign(value or "", max_age=FOLLOW_OFFER_SECONDS))
    except (signing.BadSignature, ValueError):
        raise ValidationFailed(
            "该提示已过期，请重新提交", "This offer has expired; please submit again", field="follow"
        ) from None


class StaffDemandForm(PlaceMixin):
    """Staff entering what a resident said in a WeChat group, on a visit or by phone."""

    STAFF_CHANNELS = [
        (Channel.WECHAT_GROUP, "微信群 WeChat group"),
        (Channel.VISIT, "走访 Household visit"),
        (Channel.HOTLINE, "电话 Phone"),
        (Channel.INSPECTION, "巡查 Inspection"),
    ]

    channel = forms.ChoiceField(
        choices=STAFF_CHANNELS, error_messages=required("请选择来源渠道", "Please choose the channel")
    )
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.HELP)
    category = forms.CharField(required=False, max_length=32)
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.NORMAL)
    title = forms.CharField(required=False, max_length=200, error_messages=too_long(200))
    description = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={**required("请填写诉求内容", "Please write what the resident asked"), **too_long(4000)},
    )
    reporter_name = forms.CharField(required=False, max_length=50, error_messages=too_long(50))
    reporter_phone = forms.CharField(required=False, max_length=20)
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(),
        error_messages={
            **required("请选择所属区域", "Please choose the area"),
            "invalid_choice": both("该区域不在您的范围内", "That area is outside your scope"),
        },
    )
    idempotency_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    place = forms.CharField(required=False)
    photos = forms.Field(required=False, label=_("Photos"))

    def __init__(self, *args: Any, areas: QuerySet[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area_field = model_field(self, "area")
        area_field.queryset = areas
        area_field.label_from_instance = lambda a: "　" * max(0, a.depth - 1) + a.name  # type: ignore[method-assign,assignment]
        if areas.count() == 1:
            self.fields["area"].initial = areas.first()

    def clean_reporter_phone(self) -> str:
        return clean_phone_value(self.cleaned_data.get("reporter_phone", ""), required_=False)

    def clean_category(self) -> Category | None:
        return clean_category_code(self.cleaned_data.get("category") or "")

    clean_idempotency_key = ReportForm.clean_idempotency_key

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self.clean_point(cleaned)
        if not cleaned.get("title") and cleaned.get("description"):
            cleaned["title"] = make_title(cleaned["description"])
        return cleaned


# --- moves on one demand ------------------------------------------------------------------


class MoveForm(forms.Form):
    """Every move posts the version the page showed, so a stale page gets a clear conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, demand: Demand, user: Any = None, **kwargs: Any) -> None:
        self.demand = demand
        self.user = user
        kwargs.setdefault("prefix", self.move)
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = demand.version

    move = ""

    def service_kwargs(self) -> dict[str, Any]:
        return {}


class AcceptForm(MoveForm):
    move = "accept"


class ResolveForm(MoveForm):
    move = "resolve"
    result = forms.CharField(
        label=_("Result"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={**required("请填写办理结果", "Please write the result"), **too_long(2000)},
    )
    photos = forms.Field(required=False, label=_("Photos"))

    def service_kwargs(self) -> dict[str, Any]:
        return {"result": self.cleaned_data["result"]}


class EscalateForm(MoveForm):
    move = "escalate"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写上报原因", "Please give the reason to escalate"), **too_long(1000)},
    )
    public = forms.BooleanField(label=_("Show this reason to the resident"), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"], "public": self.cleaned_data.get("public", False)}


class DispatchForm(MoveForm):
    move = "dispatch"
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        error_messages={
            **required("请选择承办部门", "Please choose a department"),
            "invalid_choice": both("没有这个部门", "No such department"),
        },
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    public = forms.BooleanField(label=_("Show this reason to the resident"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Departments are the city's public organisation: any level may send work to any of its city's.
        city_path = self.demand.area_path.split("/", 1)[0] + "/"
        model_field(self, "department").queryset = Department.objects.filter(
            area_path=city_path, is_active=True
        ).order_by("code")

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "department": self.cleaned_data["department"],
            "note": self.cleaned_data.get("note", ""),
            "public": self.cleaned_data.get("public", False),
        }


class ReturnForm(MoveForm):
    move = "return_"
    to_area = forms.ModelChoiceField(
        label=_("Return to"),
        queryset=Area.objects.none(),
        error_messages={
            **required("请选择退回到哪一级", "Please choose the level to return to"),
            "invalid_choice": both("只能退回到下级", "A demand can only go back down"),
        },
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请写明办理要求", "Please give instructions"), **too_long(1000)},
    )
    public = forms.BooleanField(label=_("Show this reason to the resident"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.demand.holder_department_id:
            # A department sends the demand back to the level that dispatched it, nowhere else.
            model_field(self, "to_area").queryset = Area.objects.filter(pk=self.demand.holder_area_id or 0)
            self.fields["to_area"].required = False
            return
        # The levels between the holder and the demand's own area, nearest to the demand first.
        paths = self.demand.area.ancestor_paths() if self.demand.area_id else []
        holder = self.demand.holder_path
        below = [p for p in paths if holder and p != holder and p.startswith(holder)]
        model_field(self, "to_area").queryset = Area.objects.filter(path__in=below).order_by("-depth")

    def service_kwargs(self) -> dict[str, Any]:
        return {
            "to_area": self.cleaned_data["to_area"],
            "instructions": self.cleaned_data["instructions"],
            "public": self.cleaned_data.get("public", False),
        }


class ReassignForm(MoveForm):
    move = "reassign"
    to_user: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Colleague"),
        queryset=None,
        error_messages={
            **required("请选择转交给谁", "Please choose a colleague"),
            "invalid_choice": both("只能转交给同级的同事", "Only a colleague at the same level can take it"),
        },
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Those who could hold it (a town officer scoped to a grid is not its grid leader).
        users = demand_holder_candidates(demand=self.demand)
        if self.user is not None:
            users = users.exclude(pk=self.user.pk)
        model_field(self, "to_user").queryset = users.order_by("username")

    def service_kwargs(self) -> dict[str, Any]:
        return {"to_user": self.cleaned_data["to_user"], "note": self.cleaned_data.get("note", "")}


class RejectForm(MoveForm):
    move = "reject"
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写不予受理的理由", "Please give the reason to reject"), **too_long(1000)},
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"]}


class MergeForm(MoveForm):
    move = "merge"
    into = forms.CharField(
        label=_("Code of the demand to merge into"),
        max_length=32,
        error_messages=required("请填写要合并到的诉求编号", "Please give the code to merge into"),
    )

    def clean_into(self) -> Demand:
        from wangge.demands import selectors

        code = self.cleaned_data["into"].strip().upper()
        target = selectors.demand_list(user=self.user).filter(code=code).first()
        if target is None:
            raise forms.ValidationError(both("找不到该编号的诉求", "No demand with that code was found"))
        if target.pk == self.demand.pk:
            raise forms.ValidationError(both("不能合并到自身", "A demand cannot be merged into itself"))
        return target

    def service_kwargs(self) -> dict[str, Any]:
        return {"into": self.cleaned_data["into"]}


class StaffCommentForm(MoveForm):
    move = "comment"
    body = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写备注内容", "Please write the comment"), **too_long(2000)},
    )
    visibility = forms.ChoiceField(label=_("Visible to"), choices=Visibility.choices, initial=Visibility.STAFF)

    def service_kwargs(self) -> dict[str, Any]:
        return {"body": self.cleaned_data["body"], "visibility": self.cleaned_data["visibility"]}


class CallBackForm(MoveForm):
    """A call back (回访) to the reporter: the service checks that a reached call has its answers."""

    move = "call_back"
    reached = forms.TypedChoiceField(
        label=_("Reached the reporter"),
        choices=[("1", _("Reached")), ("0", _("Not reached"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages=required("请选择是否联系上", "Please say whether the reporter was reached"),
    )
    solved = forms.TypedChoiceField(
        label=_("Solved"),
        choices=[("", "—"), ("1", _("Solved")), ("0", _("Not solved"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=[("", "—"), *Satisfaction.choices], required=False
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reached": data["reached"],
            "solved": data.get("solved"),
            "satisfaction": data.get("satisfaction") or None,
            "note": data.get("note", ""),
        }


MOVE_FORMS: dict[str, type[MoveForm]] = {
    f.move: f
    for f in (
        AcceptForm,
        ResolveForm,
        EscalateForm,
        DispatchForm,
        ReturnForm,
        ReassignForm,
        RejectForm,
        MergeForm,
        StaffCommentForm,
        CallBackForm,
    )
}
# Moves whose form takes photos (the result of the work).
PHOTO_MOVES = {"resolve"}


# --- the resident's tracking page ---------------------------------------------------------


class AddInfoForm(forms.Form):
    # Words or photos: the service refuses a submission with neither.
    text = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={**required("请填写补充内容", "Please write what you want to add"), **too_long(2000)},
    )
    photos = forms.Field(required=False, label=_("Photos"))


class ResidentCommentForm(forms.Form):
    body = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={**required("请填写留言内容", "Please write your message"), **too_long(1000)},
    )


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={
            **required("请选择满意程度", "Please choose how satisfied you are"),
            "invalid_choice": both("请选择满意程度", "Please choose how satisfied you are"),
        },
    )
    reason = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("satisfaction") == Satisfaction.UNSATISFIED and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason",
                both(
                    "不满意时请说明原因，我们会重新办理", "Please say why you are unsatisfied; it will be handled again"
                ),
            )
        return cleaned


def photo_count_error(files: list[Any]) -> str | None:
    if len(files) > MAX_PHOTOS:
        return both(f"一次最多上传 {MAX_PHOTOS} 张照片", f"At most {MAX_PHOTOS} photos can be uploaded at once")
    return None
