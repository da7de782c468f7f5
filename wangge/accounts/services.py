"""The only writers of users and their scopes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from wangge.accounts.models import ROLE_LEVEL, ApiToken, Role, User, UserScope
from wangge.accounts.scope import forget_scope
from wangge.core.errors import ValidationFailed


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    display_name: str = "",
    phone: str = "",
    areas: Iterable[object] = (),
    departments: Iterable[object] = (),
) -> User:
    """A staff user with a role and one or more scope areas or departments."""
    if role not in Role.values:
        raise ValidationFailed("未知的角色", f"unknown role {role!r}", field="role")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(f"用户名 {username} 已存在", f"username {username} is taken", field="username")
    user = User(username=username, role=role, display_name=display_name, phone=phone)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user_set_scope(user=user, areas=areas, departments=departments)
    return user


@transaction.atomic
def user_set_scope(*, user: User, areas: Iterable[object] = (), departments: Iterable[object] = ()) -> User:
    """Replace a user's scope; area-bound roles need areas, department staff need departments."""
    areas = list(areas)
    departments = list(departments)
    if user.role == Role.DEPARTMENT:
        if not departments or areas:
            raise ValidationFailed(
                "部门人员须且只能关联部门", "department staff are scoped to departments only", field="departments"
            )
    else:
        if not areas or departments:
            raise ValidationFailed("该角色须关联区域", "this role is scoped to areas", field="areas")
        level = ROLE_LEVEL.get(user.role)
        for area in areas:
            if level and getattr(area, "level", None) != level:
                raise ValidationFailed(
                    "角色与区域层级不符",
                    f"a {user.role} user is scoped to {level} areas, not {getattr(area, 'level', '?')}",
                    field="areas",
                )
    UserScope.objects.filter(user=user).delete()
    UserScope.objects.bulk_create(
        [UserScope(user=user, area=a) for a in areas] + [UserScope(user=user, department=d) for d in departments]  # type: ignore[misc]
    )
    forget_scope(user)
    return user


def _hash_token(raw: str) -> str:
    import hashlib

    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token; the raw value is returned once and never stored."""
    import secrets

    raw = "wg_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[3:11], token_hash=_hash_token(raw))
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """A revoked token stops working at once."""
    from wangge.core.clock import now

    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now())
    token.refresh_from_db()
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a live token, or None."""
    from wangge.core.clock import now

    if not raw:
        return None
    token = ApiToken.objects.select_related("user").filter(token_hash=_hash_token(raw), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now())
    return token.user
