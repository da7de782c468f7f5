"""Back office: rules saved through the services (bad patterns refused on the form), models
activated and rolled back by the person pressing the action."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from wangge.triage.ml import TriageClassifier
from wangge.triage.models import KeywordRule, TriageModel
from wangge.triage.testing import make_triage_model


@pytest.fixture
def admin_client(db: Any) -> tuple[Client, Any]:
    from wangge.accounts.models import User

    user = User.objects.create_superuser(username="root", password="pw-123456789", email="")
    c = Client()
    c.force_login(user)
    return c, user


def test_rule_added_in_the_admin_goes_through_the_service(admin_client: tuple[Client, Any], categories: Any) -> None:
    c, user = admin_client
    form = {"pattern": "路灯 不亮", "kind": "words", "category_code": "0102", "department_code": "", "priority": 5}
    r = c.post("/admin/triage/keywordrule/add/", {**form, "enabled": "on", "auto_apply": "on", "note": ""})
    assert r.status_code == 302
    rule = KeywordRule.objects.get(pattern="路灯 不亮")
    assert rule.updated_by == user and rule.updated_at is not None

    bad = c.post("/admin/triage/keywordrule/add/", {**form, "pattern": "(路灯", "kind": "regex"})
    assert bad.status_code == 200 and "正则表达式有误" in bad.content.decode()
    assert KeywordRule.objects.filter(auto_apply=True).count() == 1  # the default rules only suggest


def test_activate_and_roll_back_from_the_admin(admin_client: tuple[Client, Any], classifier: TriageClassifier) -> None:
    c, user = admin_client
    v1 = make_triage_model(name="m", classifier=classifier)
    v2 = make_triage_model(name="m", classifier=classifier)
    url = "/admin/triage/triagemodel/"
    assert c.get(url).status_code == 200
    c.post(url, {"action": "activate", "_selected_action": [v1.pk]})
    c.post(url, {"action": "activate", "_selected_action": [v2.pk]})
    v2.refresh_from_db()
    assert v2.is_active and v2.activated_by == user and v2.activated_via == "admin"
    c.post(url, {"action": "rollback", "_selected_action": [v2.pk]})
    assert TriageModel.objects.get(is_active=True).pk == v1.pk
