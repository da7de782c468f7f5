"""Back office for the holiday calendar: years, their days, and the upload of a year's notice.

Every save and delete goes through `wangge.holidays.services` (which stamp the year and clear the
cache); the forms check with the same rules first, so a refusal is shown on the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from wangge.core.errors import WanggeError
from wangge.holidays.models import CalendarDay, CalendarYear, DayKind
from wangge.holidays.notice import WEEKDAYS, decode, guess_year
from wangge.holidays.services import (
    calendar_day_delete,
    calendar_day_save,
    calendar_year_delete,
    calendar_year_import,
    calendar_year_save,
    check_day,
)

UPLOAD_MAX_BYTES = 1_000_000


def _refusal(error: WanggeError) -> forms.ValidationError:
    return forms.ValidationError(f"{error.zh} / {error.en}")


class NoticeUploadForm(forms.Form):
    file = forms.FileField(label=_("Notice file (CSV/text)"))
    year = forms.IntegerField(
        label=_("Year"), required=False, help_text=_("Leave empty to take the year of the first date in the file.")
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Leave empty to keep the file's # comment lines as the note."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > UPLOAD_MAX_BYTES:
            raise forms.ValidationError(gettext("The file is larger than 1 MB; a notice is a few lines."))
        return upload


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "holiday_count", "workday_count", "updated_at", "updated_by", "days_link")
    list_filter = ("source",)
    fields = ("year", "note", "source", "updated_at", "updated_by")
    readonly_fields = ("source", "updated_at", "updated_by")
    change_list_template = "admin/holidays/calendaryear/change_list.html"
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (*self.readonly_fields, "year") if obj is not None else self.readonly_fields

    @admin.display(description=_("holidays"))
    def holiday_count(self, obj: CalendarYear) -> int:
        return CalendarDay.objects.filter(year=obj.year, kind=DayKind.HOLIDAY).count()

    @admin.display(description=_("adjusted working days"))
    def workday_count(self, obj: CalendarYear) -> int:
        return CalendarDay.objects.filter(year=obj.year, kind=DayKind.WORKDAY).count()

    @admin.display(description=_("days"))
    def days_link(self, obj: CalendarYear) -> str:
        url = reverse("admin:holidays_calendarday_changelist") + f"?year={obj.year}"
        return format_html('<a href="{}">{}</a>', url, gettext("Show the days"))

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        saved = calendar_year_save(year=obj.year, note=obj.note, actor=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: CalendarYear) -> None:
        calendar_year_delete(year=obj.year, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarYear]) -> None:
        for row in queryset:
            self.delete_model(request, row)

    def get_urls(self) -> list[Any]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="holidays_calendaryear_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a year's notice: every problem is listed by line and column; a clean file replaces the year."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        problems: list[Any] = []
        error: WanggeError | None = None
        form = NoticeUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            text = decode(form.cleaned_data["file"].read())
            year = form.cleaned_data["year"] or guess_year(text)
            if year is None:
                form.add_error("year", gettext("The file has no date; enter the year."))
            else:
                try:
                    calendar_year_import(
                        year=year, text=text, actor=request.user, note=form.cleaned_data["note"] or None
                    )
                except WanggeError as e:
                    error, problems = e, e.problems
                else:
                    self.message_user(
                        request, gettext("The holiday calendar of %(year)s was imported.") % {"year": year}
                    )
                    return HttpResponseRedirect(reverse("admin:holidays_calendarday_changelist") + f"?year={year}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import a holiday notice"),
            "form": form,
            "error": error,
            "problems": problems,
        }
        return TemplateResponse(request, "admin/holidays/calendaryear/import.html", context)


class CalendarDayForm(forms.ModelForm):
    class Meta:
        model = CalendarDay
        fields = ("date", "kind", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            check_day(date=data["date"], kind=data["kind"], name=data.get("name") or "")
        except WanggeError as e:
            raise _refusal(e) from None
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ("date", "weekday", "kind", "name")
    list_filter = ("year", "kind")
    search_fields = ("name",)
    date_hierarchy = "date"
    show_facets = admin.ShowFacets.NEVER

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return str(WEEKDAYS[obj.date.weekday()])

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        previous = form.initial.get("date") if change else None
        saved = calendar_day_save(date=obj.date, kind=obj.kind, name=obj.name, actor=request.user, previous=previous)
        obj.pk = saved.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        calendar_day_delete(date=obj.date, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        for row in queryset:
            self.delete_model(request, row)
