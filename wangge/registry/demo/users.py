"""The demo's staff accounts, one per demo login, placed in the generated city."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from wangge.accounts.management.commands.demo_logins import DEMO_LOGINS, DEMO_PASSWORD
from wangge.accounts.models import ROLE_LEVEL, User
from wangge.accounts.services import user_create, user_set_flags
from wangge.registry.demo.plans import CITY_CODE
from wangge.registry.models import Area, Department, Level
from wangge.registry.services import person_update


def create_demo_users(*, city: Area) -> list[str]:
    """One demo login of every role, all inside the first town's first grid chain, plus `admin`."""
    grid = (
        Area.objects.filter(level=Level.GRID, path__startswith=city.path)
        .select_related("leader")
        .order_by("path")
        .first()
    )
    if grid is None:
        raise ValueError("the demo city has no grid")
    parts = grid.ancestor_paths()
    chain = {a.level: a for a in Area.objects.filter(path__in=parts)}
    department = Department.objects.get(code=f"{CITY_CODE}-D01")
    created: list[str] = []
    hashed = make_password(DEMO_PASSWORD)
    for login in DEMO_LOGINS:
        if User.objects.filter(username=login.username).exists():
            continue  # a previous demo (or a real admin) already owns the name: leave it alone
        scope_level = ROLE_LEVEL.get(login.role)
        display = login.display_name or (grid.leader.name + "（微网格长）" if grid.leader else "微网格长")
        user = user_create(
            username=login.username,
            password=None,  # set below: one argon2 hash for all (each takes a noticeable fraction of a second)
            role=login.role,
            display_name=display,
            areas=[chain[scope_level]] if scope_level else [],
            departments=[department] if login.role == "department" else [],
        )
        user_set_flags(
            user=user, password_hash=hashed, is_staff=login.staff or login.superuser, is_superuser=login.superuser
        )
        if login.role == "grid_leader" and grid.leader is not None:
            person_update(person=grid.leader, user=user)
        created.append(login.username)
    return created
