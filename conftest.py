"""Fixtures shared by every app's tests: a small two-town tree and one persona per role."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings: Any) -> None:
    # argon2 is deliberately slow; tests only need a hasher that works.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False


@pytest.fixture
def tree(db: Any) -> Any:
    from wangge.registry.testing import make_tree

    return make_tree()


@pytest.fixture
def personas(tree: Any) -> Any:
    from wangge.registry.testing import make_personas

    return make_personas(tree)
