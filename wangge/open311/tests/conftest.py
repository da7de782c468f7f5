"""Shared pieces of the Open311 tests: schema validation, XML parsing, a key for the inside town."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SCHEMAS = Path(__file__).parent / "schemas"


def _registry() -> Registry:
    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
        for p in SCHEMAS.glob("*.json")
    ]
    return Registry().with_resources(resources)


def validate(document: Any, schema_name: str) -> None:
    """Validate against a published Open311 schema (copied under tests/schemas), formats included."""
    schema = json.loads((SCHEMAS / schema_name).read_text())
    validator = Draft7Validator(schema, registry=_registry(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def parse_xml(content: bytes) -> ET.Element:
    """Well-formed, declared UTF-8, no namespace."""
    assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), content[:60]
    root = ET.fromstring(content)
    assert "}" not in root.tag
    return root


@pytest.fixture(autouse=True)
def _clean_cache(settings: Any, tmp_path: Any) -> Any:
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPEN311_PUBLIC_READ = True
    settings.OPEN311_ANONYMOUS_POST = False
    settings.OPEN311_SERVICE_TYPE = "realtime"
    settings.OPEN311_READ_RATE = "1000/m"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def town_key(tree: Any) -> tuple[Any, str]:
    from wangge.open311.testing import make_api_key

    return make_api_key(name="12345热线（集里）", areas=[tree.town])


@pytest.fixture
def outsider_key(tree: Any) -> tuple[Any, str]:
    from wangge.open311.testing import make_api_key

    return make_api_key(name="外镇", areas=[tree.other_town])
