"""Every route of the API has its own URL name: two routers' functions with one name (say two
`list_items`) make `reverse()` silently point at the other app's route."""

from __future__ import annotations

from collections import Counter

from django.urls import URLPattern, URLResolver

from config.api import api


def _names(patterns: list) -> list[str]:
    names: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            names.extend(_names(p.url_patterns))
        elif isinstance(p, URLPattern) and p.name:
            names.append(p.name)
    return names


def test_api_url_names_are_unique() -> None:
    urlpatterns, _app, _ns = api.urls
    counts = Counter(_names(list(urlpatterns)))
    # One URL name may serve several methods of the same path (GET and POST): ninja registers the
    # path once, so any repeat here is a real clash between two paths.
    clashes = {name: n for name, n in counts.items() if n > 1}
    assert not clashes, f"API URL names used by more than one path: {clashes}"
    assert len(counts) > 20
