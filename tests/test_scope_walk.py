"""Walk every URL with every role and an outsider: nobody reads outside their scope.

Two worlds are built: "inside" (集里街道, where the personas work) and "outside" (淮川街道, the
outsider's town). Each carries marker strings in names, addresses and phones. For every URL of
the project (the list is read from the URL resolver, so a new URL without a case here fails the
test) and every persona, the response must never contain a marker of a world the persona's scope
does not cover, and detail URLs for objects outside the scope must answer 403 or 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from wangge.accounts.models import Role
from wangge.registry.testing import make_household

INSIDE_MARK = "内圈标记"
OUTSIDE_MARK = "外圈标记"

# URL name -> function(world) giving kwargs for an object of that world; None for list pages.
# Each app adds the URLs it owns. A URL missing here makes `test_every_url_has_a_case` fail.
Case = Callable[[dict[str, Any]], dict[str, Any]] | None
CASES: dict[str, Case] = {
    "core:home": None,
    "core:healthz": None,
    "accounts:login": None,
    "accounts:logout": None,
    "registry:areas": None,
    "registry:area": lambda w: {"pk": w["grid"].pk},
    "registry:households": None,
    "registry:grid_sizes": None,
}
# Framework URLs that are not ours to scope (the admin has its own test; i18n only redirects).
SKIP_PREFIXES = ("admin:", "set_language", "api-v1:")


def _walk(resolver: Any, prefix: str = "") -> list[str]:
    names: list[str] = []
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names.extend(_walk(p, ns))
        elif isinstance(p, URLPattern) and p.name:
            names.append(prefix + p.name)
    return names


def all_url_names() -> list[str]:
    return sorted({n for n in _walk(get_resolver()) if not n.startswith(SKIP_PREFIXES)})


def test_every_url_has_a_case() -> None:
    missing = [n for n in all_url_names() if n not in CASES]
    assert not missing, f"URLs without a scope case in tests/test_scope_walk.py: {missing}"


@pytest.fixture
def worlds(tree: Any, personas: Any) -> dict[str, dict[str, Any]]:
    inside = {
        "grid": tree.grid,
        "household": make_household(grid=tree.grid, head_name=INSIDE_MARK + "户主", address=INSIDE_MARK + "1号"),
    }
    outside = {
        "grid": tree.other_grid,
        "household": make_household(
            grid=tree.other_grid, head_name=OUTSIDE_MARK + "户主", address=OUTSIDE_MARK + "1号"
        ),
    }
    return {"inside": inside, "outside": outside}


def _get(client: Client, name: str, kwargs: dict[str, Any]) -> Any:
    from django.urls import reverse

    return client.get(reverse(name, kwargs=kwargs or None))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona",
    [Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.DEPARTMENT, Role.CITY_ADMIN, Role.AUDITOR, "outsider"],
)
def test_nobody_reads_outside_their_scope(persona: str, personas: Any, worlds: Any) -> None:
    user = personas[persona]
    client = Client()
    client.force_login(user)
    city_wide = persona in (Role.CITY_ADMIN, Role.AUDITOR)
    # Which world's marker this persona must never see.
    if persona == "outsider":
        forbidden, own = "inside", "outside"
    elif city_wide:
        forbidden, own = None, "inside"
    else:
        forbidden, own = "outside", "inside"
    checked = 0
    for name in all_url_names():
        if name == "accounts:logout":
            continue
        case = CASES[name]
        worlds_to_try = ["inside", "outside"] if case is not None else [None]
        for world in worlds_to_try:
            kwargs = case(worlds[world]) if case is not None and world is not None else {}
            resp = _get(client, name, kwargs)
            body = resp.content.decode("utf-8", "replace")
            assert resp.status_code < 500, (name, world, resp.status_code)
            if forbidden:
                mark = INSIDE_MARK if forbidden == "inside" else OUTSIDE_MARK
                assert mark not in body, f"{persona} read {forbidden} data at {name} ({world})"
            if case is not None and world == forbidden:
                assert resp.status_code in (403, 404), f"{persona} opened {forbidden} object at {name}"
            checked += 1
    assert checked >= len(CASES) - 1
    # The check above could pass on empty pages: prove the persona does see its own world.
    if persona in (Role.GRID_LEADER, Role.BRANCH, Role.VILLAGE, Role.TOWN, Role.CITY_ADMIN, Role.AUDITOR, "outsider"):
        from django.urls import reverse

        body = client.get(reverse("registry:households")).content.decode()
        mark = INSIDE_MARK if own == "inside" else OUTSIDE_MARK
        assert mark in body, f"{persona} cannot see its own households"


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(worlds: Any) -> None:
    client = Client()
    for name in all_url_names():
        case = CASES[name]
        if name in ("accounts:login", "core:healthz", "accounts:logout"):
            continue
        kwargs = case(worlds["inside"]) if case is not None else {}
        resp = _get(client, name, kwargs)
        body = resp.content.decode("utf-8", "replace")
        assert INSIDE_MARK not in body and OUTSIDE_MARK not in body, name
        assert resp.status_code in (302, 401, 403, 404), (name, resp.status_code)
