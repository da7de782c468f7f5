"""Fixtures shared by every app's tests: a small two-town tree and one persona per role."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_and_quiet(settings: Any) -> None:
    # argon2 is deliberately slow; tests only need a hasher that works.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = False
    # A retraining started in a process of its own would open the configured database, not the test one.
    settings.TRIAGE_RETRAIN_COMMAND = []


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> Any:
    # The process's calendar cache and hot-cluster centroids outlive a test's rolled-back transaction: a
    # test that imported a year (and made, say, 4 March a holiday), or made clusters whose ids the next
    # test's clusters reuse, would otherwise lend them to the next test on the worker.
    from wangge.holidays import workdays
    from wangge.triage.hotclusters import pool_forget

    workdays.clear_cache()
    pool_forget()
    yield
    workdays.clear_cache()
    pool_forget()


@pytest.fixture
def tree(db: Any) -> Any:
    from wangge.registry.testing import make_tree

    return make_tree()


@pytest.fixture
def personas(tree: Any) -> Any:
    from wangge.registry.testing import make_personas

    return make_personas(tree)


# Data that migrations load (default categories, facility types, label mapping, holiday calendar). A transactional
# test (real threads, a live server for the browser) ends by flushing every table, data migrations
# included; the next test on the same worker would then miss them. Reload them when that happened.
DEFAULT_DATA_MIGRATIONS = (
    "wangge.demands.migrations.0002_default_categories",
    "wangge.demands.migrations.0009_grid_dispatch_defaults",
    "wangge.facilities.migrations.0002_default_types",
    "wangge.triage.migrations.0002_default_label_mapping",
    "wangge.triage.migrations.0003_targets_default_rules_retrain_claim",
    "wangge.holidays.migrations.0002_seed_from_chinesecalendar",
)
_DB_FIXTURES = ("db", "transactional_db", "live_server", "django_db_reset_sequences")


@pytest.fixture(autouse=True)
def _default_data(request: Any) -> None:
    if request.node.get_closest_marker("django_db") is None and not any(
        name in request.fixturenames for name in _DB_FIXTURES
    ):
        return
    request.getfixturevalue("_django_db_helper")
    import importlib

    from django.apps import apps

    from wangge.demands.models import Category

    if Category.objects.exists():
        return
    for dotted in DEFAULT_DATA_MIGRATIONS:
        importlib.import_module(dotted).load(apps, None)


def pytest_runtest_setup(item: Any) -> None:
    """Tests marked postgres_only (real row locks, SKIP LOCKED, threads racing) run on PostgreSQL only;
    on SQLite they are skipped here, in one place (CI's second pass runs them)."""
    if item.get_closest_marker("postgres_only") is not None:
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL (row locks, SKIP LOCKED); run with DATABASE_URL=postgres://…")
