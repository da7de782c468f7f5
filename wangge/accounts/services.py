"""The only writers of users and their scopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import ROLE_LEVEL, ApiKey, ApiToken, KeyPermission, Role, User, UserScope
from wangge.accounts.scope import forget_scope
from wangge.core.errors import ValidationFailed, listed


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
        raise ValidationFailed(_("unknown role '%(role)s'"), params={"role": role}, field="role")
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(_("username %(username)s is taken"), params={"username": username}, field="username")
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
            raise ValidationFailed(_("department staff are scoped to departments only"), field="departments")
    else:
        if not areas or departments:
            raise ValidationFailed(_("this role is scoped to areas"), field="areas")
        level = ROLE_LEVEL.get(user.role)
        for area in areas:
            if level and getattr(area, "level", None) != level:
                raise ValidationFailed(
                    _("a %(role)s user is scoped to %(level)s areas, not %(found)s"),
                    params={"role": user.role, "level": level, "found": getattr(area, "level", "?")},
                    field="areas",
                )
    UserScope.objects.filter(user=user).delete()
    UserScope.objects.bulk_create(
        [UserScope(user=user, area=a) for a in areas] + [UserScope(user=user, department=d) for d in departments]  # type: ignore[misc]
    )
    forget_scope(user)
    return user


@transaction.atomic
def user_set_flags(
    *,
    user: User,
    is_staff: bool | None = None,
    is_superuser: bool | None = None,
    is_active: bool | None = None,
    password_hash: str | None = None,
) -> User:
    """Back-office access, superuser and active flags, or a precomputed password hash (demo users)."""
    changes: dict[str, object] = {}
    if is_staff is not None:
        changes["is_staff"] = is_staff
    if is_superuser is not None:
        changes["is_superuser"] = is_superuser
    if is_active is not None:
        changes["is_active"] = is_active
    if password_hash is not None:
        changes["password"] = password_hash
    if changes:
        User.objects.filter(pk=user.pk).update(**changes)
        user.refresh_from_db()
        forget_scope(user)
    return user


_LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


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
    # Refresh "last used" at most once a minute: a busy staff app should not write on every request.
    current = now()
    if token.last_used_at is None or current - token.last_used_at > _LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=current)
    return token.user


# --- API keys for integrators -------------------------------------------------------------

_KEY_PREFIX = "wgk_"


def _key_account_username(prefix: str) -> str:
    return f"apikey-{prefix}"


@transaction.atomic
def api_key_create(
    *,
    name: str,
    permissions: Iterable[str],
    areas: Iterable[object] = (),
    departments: Iterable[object] = (),
    rate_limit_per_minute: int = 60,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Issue an integrator's key with a scope and permissions; the raw key is returned once, only its hash is kept."""
    import secrets

    from wangge.core.clock import now

    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("the key needs a name"), field="name")
    if len(name) > 100:
        raise ValidationFailed(_("the name is longer than 100 characters"), field="name")
    perms = sorted({str(p) for p in permissions})
    unknown = [p for p in perms if p not in KeyPermission.values]
    if unknown or not perms:
        if not unknown:
            raise ValidationFailed(_("choose permissions from the list (unknown: none given)"), field="permissions")
        raise ValidationFailed(
            _("choose permissions from the list (unknown: %(unknown)s)"),
            params={"unknown": listed(unknown)},
            field="permissions",
        )
    areas, departments = list(areas), list(departments)
    if not areas and not departments:
        # An unscoped key would see nothing; refusing it here saves a confused integrator.
        raise ValidationFailed(_("a key is scoped to areas or departments"), field="areas")
    if not 1 <= int(rate_limit_per_minute) <= 100_000:
        raise ValidationFailed(
            _("requests per minute must be 1 to 100000"),
            field="rate_limit_per_minute",
        )
    for _attempt in range(5):
        raw = _KEY_PREFIX + secrets.token_urlsafe(32)
        prefix = raw[len(_KEY_PREFIX) : len(_KEY_PREFIX) + 8]
        if not User.objects.filter(username=_key_account_username(prefix)).exists():
            break
    account = User(username=_key_account_username(prefix), role=Role.INTEGRATION, display_name=f"{name}（API）")
    account.set_unusable_password()
    account.save()
    key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=_hash_token(raw),
        account=account,
        permissions=perms,
        rate_limit_per_minute=int(rate_limit_per_minute),
        created_by=created_by,
        created_at=now(),
    )
    key.areas.set(areas)  # type: ignore[arg-type]
    key.departments.set(departments)  # type: ignore[arg-type]
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """A revoked key stops working at once, and its service account with it."""
    from wangge.core.clock import now

    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now())
    User.objects.filter(pk=key.account_id).update(is_active=False)
    key.refresh_from_db()
    return key


def api_key_authenticate(raw: str | None) -> ApiKey | None:
    """The live key behind a raw value (its account carries it as `acting_key`), or None."""
    from datetime import timedelta

    from wangge.core.clock import now

    raw = (raw or "").strip()
    if not raw.startswith(_KEY_PREFIX) or len(raw) > 100:
        return None
    key = (
        ApiKey.objects.select_related("account")
        .filter(key_hash=_hash_token(raw), revoked_at__isnull=True, account__is_active=True)
        .first()
    )
    if key is None:
        return None
    moment = now()
    # One write a minute at most: a busy integrator must not turn every read into an UPDATE.
    if key.last_used_at is None or moment - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=moment)
        key.last_used_at = moment
    key.account.acting_key = key  # type: ignore[attr-defined]
    return key
