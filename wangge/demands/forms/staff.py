"""The staff forms: intake of what a resident said elsewhere, and one small form per move."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from wangge.demands.forms.common import (
    PlaceMixin,
    both,
    clean_category_code,
    clean_phone_value,
    make_title,
    model_field,
    required,
    too_long,
)
from wangge.demands.forms.resident import ReportForm
from wangge.demands.models import Category, Channel, Demand, Kind, Satisfaction, Urgency, Visibility
from wangge.demands.permissions import demand_holder_candidates
from wangge.registry.models import Area, Department


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
