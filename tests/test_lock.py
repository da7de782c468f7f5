"""The lock files agree with pyproject.toml: a pin changed without `make lock` fails here, not in production."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found.setdefault(_name(match[1]), match[2])
    return found


def _locked(path: Path) -> dict[str, str]:
    return _pins([line for line in path.read_text().splitlines() if not line.startswith((" ", "#"))])


def test_every_pin_of_pyproject_is_locked_at_the_same_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins(project["dependencies"])
    dev = _pins(project["optional-dependencies"]["dev"])
    assert runtime and dev
    prod_lock = _locked(ROOT / "requirements" / "prod.lock")
    dev_lock = _locked(ROOT / "requirements" / "dev.lock")
    stale = {
        name: (version, prod_lock.get(name)) for name, version in runtime.items() if prod_lock.get(name) != version
    }
    assert not stale, f"requirements/prod.lock differs from pyproject.toml (run `make lock`): {stale}"
    wanted = {**runtime, **dev}
    stale = {name: (version, dev_lock.get(name)) for name, version in wanted.items() if dev_lock.get(name) != version}
    assert not stale, f"requirements/dev.lock differs from pyproject.toml (run `make lock`): {stale}"
    assert not set(dev) & set(prod_lock), "a dev-only package in the production lock"


def test_every_locked_package_carries_hashes() -> None:
    for lock in ("prod.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        assert entries and all("--hash=sha256:" in entry for entry in entries if PIN.match(entry)), lock
