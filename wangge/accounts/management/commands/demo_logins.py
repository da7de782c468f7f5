"""`manage.py demo_logins`: the demo users that exist, their role, scope and (unchanged) password.

The demo logins are defined here, in accounts, so that the registry's demo builder can import them
(registry depends on accounts, never the reverse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import translation

from wangge.accounts.models import Role, User

DEMO_PASSWORD = "wangge-demo-2026"  # demo only: printed on purpose, never keep it on a real server


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    display_name: str  # empty: the builder uses the grid leader's own name
    staff: bool = False  # may open the back office (/admin/), scoped like every list
    superuser: bool = False


DEMO_LOGINS: list[DemoLogin] = [
    DemoLogin("demo_grid", Role.GRID_LEADER, ""),
    DemoLogin("demo_branch", Role.BRANCH, "刘红梅（党支部书记）"),
    DemoLogin("demo_village", Role.VILLAGE, "陈志强（村社区干部）", staff=True),
    DemoLogin("demo_town", Role.TOWN, "王海燕（乡镇街道干部）", staff=True),
    DemoLogin("demo_dept", Role.DEPARTMENT, "周建华（供电公司）"),
    DemoLogin("demo_city", Role.CITY_ADMIN, "彭立新（市网格化服务管理中心）", staff=True),
    DemoLogin("demo_auditor", Role.AUDITOR, "谭秀英（审计，只读）", staff=True),
    DemoLogin("admin", Role.CITY_ADMIN, "系统管理员", staff=True, superuser=True),
]


def login_url() -> str:
    """The login page at the public address (`make run` sets it to the HOST and PORT it serves on)."""
    from wangge.core.links import public_url

    return public_url(reverse("accounts:login"))


def demo_login_rows() -> list[dict[str, str]]:
    """One row per demo user that exists; the password only while it is still the demo one."""
    wanted = [d.username for d in DEMO_LOGINS]
    users = {u.username: u for u in User.objects.filter(username__in=wanted).prefetch_related("scopes__area")}
    labels = dict(Role.choices)
    rows = []
    for login in DEMO_LOGINS:
        user = users.get(login.username)
        if user is None:
            continue
        with translation.override("en"):
            role_en = str(labels.get(user.role, user.role))
        with translation.override("zh-hans"):
            role_zh = str(labels.get(user.role, user.role))
        if user.is_superuser:
            role_zh, role_en, scope = "超级管理员", "Superuser", "全部 / everything"
        else:
            names = [
                str(s.area.name if s.area is not None else s.department)
                for s in sorted(user.scopes.all(), key=lambda s: (s.area_id is None, s.pk))
            ]
            scope = "、".join(names) or "-"
        rows.append(
            {
                "username": user.username,
                "password": DEMO_PASSWORD if user.check_password(DEMO_PASSWORD) else "(changed)",
                "role_zh": role_zh,
                "role_en": role_en,
                "scope": scope,
                "display_name": str(user),
            }
        )
    return rows


def format_logins(rows: list[dict[str, str]]) -> str:
    """The demo login table, with the warning that these passwords are for a demo only."""
    if not rows:
        return "没有演示账号 / no demo logins exist"
    lines = [
        f"演示账号（仅供演示，切勿用于生产） / demo logins (demo only, never on a real server): {login_url()}",
        "",
        f"  {'username':<14} {'password':<18} {'role':<40} scope",
    ]
    for r in rows:
        role = f"{r['role_zh']} / {r['role_en']}"
        lines.append(f"  {r['username']:<14} {r['password']:<18} {role:<40} {r['scope']}")
    if any(r["password"] == DEMO_PASSWORD for r in rows):
        lines += [
            "",
            f"  密码 {DEMO_PASSWORD} 是公开的演示密码：上线前请修改或删除这些账号。",
            f"  {DEMO_PASSWORD} is a published demo password: change or delete these users before going live.",
        ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the demo logins (username, password if unchanged, role, scope) and the login URL."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(format_logins(demo_login_rows()))
