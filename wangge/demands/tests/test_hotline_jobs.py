"""The 12345 export uploaded on the web: queued as an import job of kind hotline, run by the worker's pass,
followed on a page with a progress bar, then the counts and every row error; who may upload which kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from wangge.accounts.models import Role
from wangge.demands.hotline import hotline_import
from wangge.demands.models import Demand
from wangge.demands.tests.test_hotline import good_rows, write_xlsx
from wangge.registry.importing import import_jobs_run
from wangge.registry.models import ImportJob
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def _upload(client: Client, city: Any, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post(reverse("demands:hotline_results"), {"city": city.pk, "file": handle})


def test_upload_worker_pass_then_counts_on_the_job_page(tree: Any, personas: Any, media: Path) -> None:
    clerk = Client()
    clerk_user = make_user(role=Role.CALL_BACK_CLERK, areas=[tree.city], username="p_clerk")
    clerk.force_login(clerk_user)
    page = clerk.get(reverse("demands:hotline_results")).content.decode()
    assert 'data-testid="hotline-upload"' in page

    sent = _upload(clerk, tree.city, write_xlsx(media / "export.xlsx", good_rows()))
    job = ImportJob.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("demands:hotline_job", args=[job.pk])
    assert (job.kind, job.status) == ("hotline", "queued")
    assert not Demand.objects.exists()  # the request only queued it
    queued = clerk.get(sent["Location"]).content.decode()
    assert 'data-testid="import-queued"' in queued and f'hx-get="{sent["Location"]}"' in queued

    assert import_jobs_run()["status"] == "done"
    assert Demand.objects.filter(channel="hotline").count() == 3
    job.refresh_from_db()
    assert (job.rows, job.created_count, job.unchanged_count, job.created_by) == (3, 3, 0, clerk_user)
    done = clerk.get(sent["Location"])
    with translation.override("en"):
        cards = [(value, str(label)) for value, label in done.context["cards"]]
    assert cards[1:3] == [(3, "orders created"), (0, "already imported")]
    assert "hx-get" not in done.content.decode()
    # The same export again: nothing filed twice, all counted as already imported; both listed on the page.
    _upload(clerk, tree.city, write_xlsx(media / "again.xlsx", good_rows()))
    import_jobs_run()
    again = ImportJob.objects.get(original_name="again.xlsx")
    assert (again.status, again.created_count, again.unchanged_count) == ("done", 0, 3)
    listing = clerk.get(reverse("demands:hotline_results")).content.decode()
    assert reverse("demands:hotline_job", args=[again.pk]) in listing and "export.xlsx" in listing


def test_a_bad_row_refuses_the_whole_file_and_is_named_by_row_and_column(tree: Any, personas: Any, media: Path) -> None:
    admin = Client()
    admin.force_login(personas[Role.CITY_ADMIN])
    rows = good_rows()
    rows[1][4] = "骚扰"  # an unknown kind of demand, on Excel row 4 (title line, header, two rows)
    _upload(admin, tree.city, write_xlsx(media / "bad.xlsx", rows))
    assert import_jobs_run()["status"] == "refused"
    assert not Demand.objects.exists()  # all or nothing
    job = ImportJob.objects.get()
    assert job.error_count == 1
    error = job.errors[0]
    assert (error["sheet"], error["row"], error["column"]) == ("工单", 4, "诉求类型")
    html = admin.get(reverse("demands:hotline_job", args=[job.pk])).content.decode()
    assert 'data-testid="import-errors"' in html
    assert error["message"] in html and error["message_en"].replace("'", "&#x27;") in html


def test_the_service_reports_progress_through_the_callback(tree: Any, tmp_path: Path) -> None:
    heard: list[tuple[str, int, int]] = []
    hotline_import(path=write_xlsx(tmp_path / "e.xlsx", good_rows()), progress=lambda *a: heard.append(a))
    stages = [stage for stage, _done, _total in heard]
    assert stages[0] == "read" and "validate" in stages and stages[-1] == "write"
    assert ("validate", 0, 3) in heard and ("write", 0, 3) in heard


def test_who_may_upload_which_kind(tree: Any, personas: Any, media: Path) -> None:
    clerk_user = make_user(role=Role.CALL_BACK_CLERK, areas=[tree.city], username="p_clerk")
    path = write_xlsx(media / "export.xlsx", good_rows())
    leader = Client()
    leader.force_login(personas[Role.GRID_LEADER])
    assert _upload(leader, tree.city, path).status_code == 403
    page = leader.get(reverse("demands:hotline_results")).content.decode()
    assert 'data-testid="hotline-upload"' not in page  # the return sheet stays; the upload is not offered
    clerk = Client()
    clerk.force_login(clerk_user)
    # The clerk may not import the registry nor boundaries.
    with path.open("rb") as handle:
        registry = clerk.post(reverse("registry:import"), {"city": tree.city.pk, "file": handle})
    assert registry.status_code == 403
    assert clerk.get(reverse("registry:boundaries")).status_code == 403
    assert _upload(clerk, tree.city, path).status_code == 302
    job = ImportJob.objects.get()
    # The hotline job is not a registry job: not on the registry's pages, not to a grid leader.
    admin = Client()
    admin.force_login(personas[Role.CITY_ADMIN])
    assert admin.get(reverse("registry:import_job", args=[job.pk])).status_code == 404
    assert leader.get(reverse("demands:hotline_job", args=[job.pk])).status_code == 403
    # Someone of another city does not see it at all.
    elsewhere = Client()
    elsewhere.force_login(make_user(role=Role.CALL_BACK_CLERK, areas=[tree.other_town], username="p_clerk2"))
    assert elsewhere.get(reverse("demands:hotline_job", args=[job.pk])).status_code == 404


def test_a_file_of_the_wrong_type_is_refused_on_the_page(tree: Any, personas: Any, media: Path) -> None:
    admin = Client()
    admin.force_login(personas[Role.CITY_ADMIN])
    wrong = SimpleUploadedFile("export.pdf", b"%PDF-1.4")
    page = admin.post(reverse("demands:hotline_results"), {"city": tree.city.pk, "file": wrong})
    assert page.status_code == 400 and 'data-testid="hotline-upload-errors"' in page.content.decode()
    assert not ImportJob.objects.exists()
