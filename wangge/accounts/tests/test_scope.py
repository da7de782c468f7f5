"""Scope: what each role may see, computed in one place."""

from __future__ import annotations

from typing import Any

import pytest

from wangge.accounts.models import Role
from wangge.accounts.scope import scope_for
from wangge.accounts.services import api_token_authenticate, api_token_create, api_token_revoke, user_set_scope
from wangge.core.errors import NotFound, ValidationFailed
from wangge.registry import selectors
from wangge.registry.testing import make_household, make_user

pytestmark = pytest.mark.django_db


def test_each_role_sees_its_own_subtree(tree: Any, personas: Any) -> None:
    inside = make_household(grid=tree.grid)
    sibling = make_household(grid=tree.sibling_grid)
    outside = make_household(grid=tree.other_grid)
    seen = {
        role: set(selectors.household_list(user=user).values_list("pk", flat=True)) for role, user in personas.items()
    }
    assert seen[Role.GRID_LEADER] == {inside.pk}
    assert seen[Role.BRANCH] == {inside.pk, sibling.pk}
    assert seen[Role.VILLAGE] == {inside.pk, sibling.pk}
    assert seen[Role.TOWN] == {inside.pk, sibling.pk}
    assert seen[Role.CITY_ADMIN] == {inside.pk, sibling.pk, outside.pk}
    assert seen[Role.AUDITOR] == {inside.pk, sibling.pk, outside.pk}
    assert seen[Role.DEPARTMENT] == set()
    assert seen["outsider"] == {outside.pk}


def test_area_outside_scope_is_not_found(tree: Any, personas: Any) -> None:
    with pytest.raises(NotFound):
        selectors.area_get(user=personas[Role.TOWN], pk=tree.other_grid.pk)
    assert selectors.area_get(user=personas[Role.TOWN], pk=tree.grid.pk) == tree.grid


def test_path_prefix_does_not_leak_to_similar_codes(tree: Any) -> None:
    """'430181100/' must not match '4301811001/': paths end with a slash."""
    from wangge.registry.services import area_create

    lookalike = area_create(level="town", code=tree.town.code + "1", name="相似编码镇", parent=tree.city)
    user = make_user(role=Role.TOWN, areas=[tree.town])
    assert lookalike not in selectors.area_list(user=user)


def test_department_staff_see_their_department(tree: Any, personas: Any) -> None:
    scope = scope_for(personas[Role.DEPARTMENT])
    assert scope.department_ids == (tree.department.pk,)
    assert list(selectors.department_list(user=personas[Role.DEPARTMENT])) == [tree.department]
    assert set(selectors.department_list(user=personas[Role.CITY_ADMIN])) == {tree.department, tree.other_department}


def test_auditor_is_read_only_and_inactive_user_sees_nothing(personas: Any) -> None:
    assert scope_for(personas[Role.AUDITOR]).read_only
    assert not scope_for(personas[Role.CITY_ADMIN]).read_only
    user = personas[Role.TOWN]
    user.is_active = False
    user.save()
    user.refresh_from_db()
    assert scope_for(user).is_empty


def test_scope_must_match_role(tree: Any) -> None:
    with pytest.raises(ValidationFailed):
        make_user(role=Role.GRID_LEADER, areas=[tree.town])
    with pytest.raises(ValidationFailed):
        make_user(role=Role.DEPARTMENT, areas=[tree.town])
    user = make_user(role=Role.TOWN, areas=[tree.town])
    user_set_scope(user=user, areas=[tree.town, tree.other_town])
    assert set(scope_for(user).area_paths) == {tree.town.path, tree.other_town.path}


def test_api_token_lifecycle(personas: Any) -> None:
    token, raw = api_token_create(user=personas[Role.TOWN], name="乡镇 App")
    assert raw not in token.token_hash
    assert api_token_authenticate(raw) == personas[Role.TOWN]
    assert api_token_authenticate(raw + "x") is None
    api_token_revoke(token=token)
    assert api_token_authenticate(raw) is None


def test_a_token_stamps_its_last_use_once_a_minute_and_an_inactive_user_is_refused(personas: Any) -> None:
    import datetime as dt

    from wangge.accounts.models import ApiToken
    from wangge.core import clock

    user = personas[Role.TOWN]
    token, raw = api_token_create(user=user, name="乡镇 App")
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with clock.travel(start):
        assert api_token_authenticate(raw) == user
    token.refresh_from_db()
    assert token.last_used_at == start
    with clock.travel(start + dt.timedelta(seconds=50)):
        assert api_token_authenticate(raw) == user
    token.refresh_from_db()
    assert token.last_used_at == start  # within the minute: no write
    with clock.travel(start + dt.timedelta(seconds=70)):
        assert api_token_authenticate(raw) == user
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start + dt.timedelta(seconds=70)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert api_token_authenticate(raw) is None
