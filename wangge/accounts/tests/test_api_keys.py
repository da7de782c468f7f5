"""Integrators' API keys: issued and revoked by the service (and the admin), scoped, checked, rate-limited."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from wangge.accounts.models import ApiKey, Role, User
from wangge.accounts.scope import scope_for
from wangge.accounts.services import api_key_authenticate, api_key_create, api_key_revoke
from wangge.core.errors import ValidationFailed
from wangge.demands.models import Demand
from wangge.demands.testing import make_demand

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _key(**kw: Any) -> tuple[ApiKey, str]:
    data: dict[str, Any] = {"name": "12345热线", "permissions": ["demands:read", "demands:create"]}
    data.update(kw)
    return api_key_create(**data)


def test_create_keeps_only_a_hash_and_a_service_account(tree: Any) -> None:
    key, raw = _key(areas=[tree.town])
    assert raw.startswith("wgk_") and len(raw) > 40
    assert raw not in key.key_hash and key.prefix == raw[4:12]
    assert key.account.role == Role.INTEGRATION and not key.account.has_usable_password()
    assert not key.account.is_staff and not key.account.scopes.exists()
    assert api_key_authenticate(raw) == key
    assert api_key_authenticate(raw + "x") is None and api_key_authenticate("") is None


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": " "}, "name"),
        ({"permissions": []}, "permissions"),
        ({"permissions": ["demands:delete"]}, "permissions"),
        ({"areas": []}, "areas"),
        ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ],
)
def test_create_refuses_bad_input(tree: Any, kw: dict[str, Any], field: str) -> None:
    data: dict[str, Any] = {"areas": [tree.town]}
    data.update(kw)
    with pytest.raises(ValidationFailed) as info:
        _key(**data)
    assert info.value.field == field
    assert not ApiKey.objects.exists() and not User.objects.filter(role=Role.INTEGRATION).exists()


def test_scope_of_a_key_and_revocation(tree: Any) -> None:
    key, raw = _key(areas=[tree.town, tree.grid], departments=[tree.department])
    scope = scope_for(api_key_authenticate(raw).account)
    assert scope.area_paths == (tree.town.path,)  # the grid lies inside the town
    assert scope.department_ids == (tree.department.pk,) and not scope.is_global and not scope.read_only
    fresh = User.objects.get(pk=key.account_id)  # without the key attached, the account still has its scope
    assert scope_for(fresh).area_paths == (tree.town.path,)
    api_key_revoke(key=key)
    assert api_key_authenticate(raw) is None
    assert scope_for(User.objects.get(pk=key.account_id)).is_empty
    read_only, _raw = _key(areas=[tree.town], permissions=["demands:read"])
    assert scope_for(read_only.account).read_only


def _api(raw: str) -> Client:
    return Client(HTTP_X_API_KEY=raw)


def _text(resp: Any) -> str:
    return json.dumps(resp.json(), ensure_ascii=False)


def test_a_key_reads_the_json_api_inside_its_scope(tree: Any) -> None:
    inside = make_demand(grid=tree.grid, title="内圈诉求")
    outside = make_demand(grid=tree.other_grid, title="外圈诉求")
    _k, raw = _key(areas=[tree.other_town])
    client = _api(raw)
    listed = client.get("/api/v1/demands")
    assert listed.status_code == 200
    assert "外圈诉求" in _text(listed) and "内圈诉求" not in _text(listed)
    assert client.get(f"/api/v1/demands/{inside.pk}").status_code == 404
    assert client.get(f"/api/v1/demands/{outside.pk}/events").status_code == 200
    assert client.get("/api/v1/categories").status_code == 200


def test_a_key_files_demands_only_inside_its_scope(tree: Any) -> None:
    key, raw = _key(areas=[tree.town])
    client = _api(raw)
    made = client.post(
        "/api/v1/demands",
        {"description": "楼道灯坏了", "grid": tree.grid.code, "channel": "hotline"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="h-1",
    )
    assert made.status_code == 201, made.content
    demand = Demand.objects.get(pk=made.json()["id"])
    assert demand.created_by == key.account and demand.channel == "hotline"
    refused = client.post(
        "/api/v1/demands", {"description": "外镇的灯", "grid": tree.other_grid.code}, content_type="application/json"
    )
    assert refused.status_code == 403 and Demand.objects.count() == 1


def test_permissions_limit_what_a_key_may_call(tree: Any) -> None:
    demand = make_demand(grid=tree.grid)
    _k, reader = _key(areas=[tree.town], permissions=["demands:read"])
    client = _api(reader)
    assert client.get("/api/v1/demands").status_code == 200
    cannot_file = client.post(
        "/api/v1/demands", {"description": "x", "grid": tree.grid.code}, content_type="application/json"
    )
    assert cannot_file.status_code == 403 and cannot_file.json()["code"] == "key_forbidden"
    assert client.get("/api/v1/areas").status_code == 403  # registry:read not granted
    _k2, everything = _key(
        areas=[tree.town], permissions=["demands:read", "demands:create", "registry:read", "open311"]
    )
    full = _api(everything)
    assert full.get("/api/v1/areas").status_code == 200
    # Moves need a person who holds the demand; no permission lets a key make them.
    accept = full.post(f"/api/v1/demands/{demand.pk}/accept", {}, content_type="application/json")
    assert accept.status_code == 403
    assert full.get("/api/v1/parking/lots").status_code == 403
    demand.refresh_from_db()
    assert demand.state == "submitted"
    assert _api("wgk_forged").get("/api/v1/demands").status_code == 401


def test_rate_limit_per_key(tree: Any) -> None:
    _k, raw = _key(areas=[tree.town], rate_limit_per_minute=3)
    _k2, other = _key(areas=[tree.town], rate_limit_per_minute=3)
    answers = [_api(raw).get("/api/v1/categories") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json() == {
        "code": "rate_limited",
        "message": "该 API 密钥每分钟最多 3 次请求，请稍后再试",
        "message_en": "this API key is limited to 3 requests a minute; try again shortly",
        "field": None,
    }
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert _api(other).get("/api/v1/categories").status_code == 200  # each key has its own budget


def test_admin_issues_a_key_once_and_revokes_it(tree: Any, client: Client) -> None:
    admin_user = User.objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(admin_user)
    resp = client.post(
        "/admin/accounts/apikey/add/",
        {
            "name": "微信小程序",
            "areas": [tree.city.pk],
            "permissions": ["open311", "demands:read"],
            "rate_limit_per_minute": 120,
        },
        follow=True,
    )
    assert resp.status_code == 200
    key = ApiKey.objects.get(name="微信小程序")
    shown = re.search(r"wgk_[A-Za-z0-9_\-]+", resp.content.decode())
    assert shown is not None and api_key_authenticate(shown.group(0)) == key
    assert key.created_by == admin_user and sorted(key.permissions) == ["demands:read", "open311"]
    assert shown.group(0) not in client.get(f"/admin/accounts/apikey/{key.pk}/change/").content.decode()
    bad = client.post(
        "/admin/accounts/apikey/add/", {"name": "无范围", "permissions": ["open311"], "rate_limit_per_minute": 60}
    )
    assert bad.status_code == 200 and ApiKey.objects.count() == 1  # the form shows the service's refusal
    client.post("/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None and api_key_authenticate(shown.group(0)) is None


def test_docs_page_uses_no_cdn(client: Client) -> None:
    resp = client.get("/api/v1/docs")
    assert resp.status_code == 200
    html = resp.content.decode()
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert refs, html[:500]
    assert all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "cdn" not in html.lower()
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert {"ApiKeyAuth", "TokenAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_shared_cache_table_is_made_by_migrate() -> None:
    assert "wangge_cache" in connection.introspection.table_names()
