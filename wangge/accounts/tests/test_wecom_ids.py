"""Staff bound to their WeCom (企业微信) user ids: the field, the admin, the all-or-nothing import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client

from wangge.accounts.models import Role, User
from wangge.accounts.services import user_import_wecom_ids
from wangge.core.errors import ValidationFailed
from wangge.registry.testing import make_user

pytestmark = pytest.mark.django_db


def _ids() -> dict[str, str]:
    return dict(User.objects.exclude(wecom_userid="").values_list("username", "wecom_userid"))


def test_a_bound_id_belongs_to_one_account_whatever_its_case(tree: Any) -> None:
    a = make_user(role=Role.GRID_LEADER, areas=[tree.grid], username="a")
    b = make_user(role=Role.GRID_LEADER, areas=[tree.sibling_grid], username="b")
    User.objects.filter(pk=a.pk).update(wecom_userid="ZhangSan")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=b.pk).update(wecom_userid="zhangsan")
    # Blank is "not bound" and may repeat.
    assert User.objects.filter(wecom_userid="").count() >= 1


def test_import_by_username_or_phone_with_a_header(tree: Any, personas: Any) -> None:
    leader = make_user(role=Role.GRID_LEADER, areas=[tree.sibling_grid], username="leader2", phone="13800002222")
    rows = [
        ["用户名", "企业微信账号"],
        ["p_grid", "zhangjianguo"],
        [13800002222.0, "li.si@county"],  # a phone as Excel stores it
        [None, None],  # a blank row is skipped
        ["p_town", "wangwu"],
    ]
    assert user_import_wecom_ids(rows=rows, sheet="Sheet1") == 3
    assert _ids() == {"p_grid": "zhangjianguo", "leader2": "li.si@county", "p_town": "wangwu"}
    # Again: nothing changes; a swap between two accounts is allowed (cleared first).
    assert user_import_wecom_ids(rows=rows) == 0
    swapped = [["p_grid", "wangwu"], ["p_town", "zhangjianguo"]]  # no header: column A user, B id
    assert user_import_wecom_ids(rows=swapped) == 2
    assert _ids()["p_grid"] == "wangwu" and _ids()["p_town"] == "zhangjianguo"
    leader.refresh_from_db()
    assert leader.wecom_userid == "li.si@county"


def test_every_bad_row_is_named_and_nothing_is_written(tree: Any, personas: Any) -> None:
    make_user(role=Role.GRID_LEADER, areas=[tree.sibling_grid], username="twin1", phone="13900003333")
    make_user(role=Role.GRID_LEADER, areas=[tree.other_grid], username="twin2", phone="13900003333")
    bound = make_user(role=Role.TOWN, areas=[tree.other_town], username="bound")
    user_import_wecom_ids(rows=[["bound", "taken.id"]])
    rows = [
        ["username", "wecom_userid"],
        ["p_grid", "good.one"],  # row 2: fine, but not written because others are bad
        ["nobody", "x1"],  # row 3: unknown user
        ["p_branch", "-bad start"],  # row 4: bad id
        ["p_village", "GOOD.ONE"],  # row 5: duplicate of row 2 (WeCom ignores case)
        ["13900003333", "y1"],  # row 6: phone of two accounts
        ["p_town", "Taken.Id"],  # row 7: bound to another account
        ["p_grid", "z9"],  # row 8: p_grid listed twice
    ]
    with pytest.raises(ValidationFailed) as caught:
        user_import_wecom_ids(rows=rows, sheet="名单")
    problems = {(p.row, p.column, p.code) for p in caught.value.problems}
    assert problems == {
        (3, "username", "unknown_user"),
        (4, "wecom_userid", "bad_wecom_userid"),
        (5, "wecom_userid", "duplicate_wecom_userid"),
        (6, "username", "ambiguous_user"),
        (7, "wecom_userid", "wecom_userid_taken"),
        (8, "username", "duplicate_user"),
    }
    texts = {p.row: str(p) for p in caught.value.problems}
    assert texts[3].startswith("工作表「名单」第 3 行「username」列：") and "row 3, column 'username'" in texts[3]
    assert "nobody" in texts[3]
    assert "第 2 行" in texts[5] and "row 2" in texts[5]
    assert "bound" in texts[7]
    assert "6" in caught.value.zh and "nothing was written" in caught.value.en
    assert _ids() == {"bound": "taken.id"}
    bound.refresh_from_db()
    assert bound.wecom_userid == "taken.id"


def test_the_command_reads_csv_and_xlsx_and_refuses_a_bad_file(tmp_path: Path, personas: Any) -> None:
    csv_file = tmp_path / "ids.csv"
    csv_file.write_bytes("用户名,企业微信账号\r\np_grid,zhangjianguo\r\n".encode("gb18030"))
    call_command("import_wecom_ids", str(csv_file))
    assert _ids() == {"p_grid": "zhangjianguo"}

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "wecom_userid"])
    sheet.append(["p_town", "wangwu"])
    sheet.append(["p_branch", "bad id!"])
    xlsx_file = tmp_path / "ids.xlsx"
    book.save(xlsx_file)
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_wecom_ids", str(xlsx_file))
    assert _ids() == {"p_grid": "zhangjianguo"}
    with pytest.raises(CommandError, match=r"\.csv"):
        call_command("import_wecom_ids", str(tmp_path / "ids.txt"))


def test_a_superuser_binds_an_id_in_the_admin_and_a_taken_one_is_refused(personas: Any, client: Client) -> None:
    root = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(root)
    grid, town = personas[Role.GRID_LEADER], personas[Role.TOWN]
    user_import_wecom_ids(rows=[["p_town", "wangwu"]])
    page = client.get(f"/admin/accounts/user/{grid.pk}/change/")
    assert page.status_code == 200 and 'name="wecom_userid"' in page.text
    form = page.context["adminform"].form
    data = {
        k: v for k, v in form.initial.items() if v is not None and k not in ("password", "groups", "user_permissions")
    }
    data.update(
        {
            "date_joined_0": form.initial["date_joined"].strftime("%Y-%m-%d"),
            "date_joined_1": form.initial["date_joined"].strftime("%H:%M:%S"),
            "scopes-TOTAL_FORMS": "1",
            "scopes-INITIAL_FORMS": "1",
            "scopes-0-id": str(grid.scopes.get().pk),
            "scopes-0-user": str(grid.pk),
            "scopes-0-area": str(grid.scopes.get().area_id),
        }
    )
    refused = client.post(f"/admin/accounts/user/{grid.pk}/change/", {**data, "wecom_userid": "WangWu"})
    assert refused.status_code == 200 and "该企业微信账号已绑定其他用户" in refused.text
    grid.refresh_from_db()
    assert grid.wecom_userid == ""
    saved = client.post(f"/admin/accounts/user/{grid.pk}/change/", {**data, "wecom_userid": "zhangjianguo"})
    assert saved.status_code == 302, saved.text[:2000]
    grid.refresh_from_db()
    town.refresh_from_db()
    assert grid.wecom_userid == "zhangjianguo" and town.wecom_userid == "wangwu"
