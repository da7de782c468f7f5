"""The only writers of users and their scopes."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from wangge.accounts.models import (
    ROLE_LEVEL,
    WECOM_USERID_RE,
    ApiKey,
    ApiToken,
    KeyPermission,
    Role,
    User,
    UserScope,
)
from wangge.accounts.scope import forget_scope
from wangge.core.errors import FieldProblem, ValidationFailed, render_both
from wangge.core.phones import is_mobile, normalise_phone
from wangge.core.text import Listed


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


@functools.cache
def _token_user_sql(vendor: str) -> str:
    """The user of a live token, with the token's id and whether its "last used" is older than the granularity."""
    qn = connection.ops.quote_name
    columns = ", ".join(f"u.{qn(f.column)}" for f in User._meta.concrete_fields)
    return (
        f"SELECT {columns}, t.{qn('id')} AS wangge_token_id, "
        f"(t.{qn('last_used_at')} IS NULL OR t.{qn('last_used_at')} < %s) AS wangge_token_stale "
        f"FROM {qn(User._meta.db_table)} u JOIN {qn(ApiToken._meta.db_table)} t ON t.{qn('user_id')} = u.{qn('id')} "
        f"WHERE t.{qn('token_hash')} = %s AND t.{qn('revoked_at')} IS NULL"
    )


def api_token_authenticate(raw: str) -> User | None:
    """The active user behind a live token, or None.

    Every API request of a staff app reads this: one plain SELECT of the user joined to the token (the
    ORM's own User through `raw`), not a compiled QuerySet with the token's row as a second model."""
    from wangge.core.clock import now

    if not raw:
        return None
    current = now()
    # Refresh "last used" at most once a minute: a busy staff app should not write on every request.
    params = [current - _LAST_USED_GRANULARITY, _hash_token(raw)]
    found = User.objects.raw(_token_user_sql(connection.vendor), params, using=connection.alias)
    user = next(iter(found), None)
    if user is None or not user.is_active:
        return None
    if user.wangge_token_stale:  # type: ignore[attr-defined]
        ApiToken.objects.filter(pk=user.wangge_token_id).update(last_used_at=current)  # type: ignore[attr-defined]
    return user


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
            params={"unknown": Listed(unknown)},
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


# --- WeCom (企业微信) user ids ---------------------------------------------------------------

# Header cells that name each column (compared lower-cased, spaces removed); a file without a
# recognised header is read as column A = username or phone, column B = WeCom user id.
_USER_HEADERS = {"username", "user", "phone", "用户名", "账号", "登录名", "手机", "手机号", "手机号码"}
_WECOM_HEADERS = {"wecom_userid", "wecomuserid", "wecom", "userid", "企业微信", "企业微信账号", "企业微信userid"}


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores a typed phone number as 13800001111.0
    return "" if value is None else str(value).strip()


def _problem(
    code: str, message: Any, params: Mapping[str, Any], *, sheet: str | None, row: int, column: str
) -> FieldProblem:
    zh, en = render_both(message, params)
    return FieldProblem(code, zh, en, sheet=sheet, row=row, column=column)


@transaction.atomic
def user_import_wecom_ids(*, rows: Sequence[Sequence[Any]], sheet: str | None = None) -> int:
    """Bind staff to their WeCom user ids from rows of (username or phone, WeCom user id); all or nothing.

    Every row is checked before anything is written: an unknown user, a phone shared by several
    accounts, an id WeCom would refuse, an id given twice or already bound to another account are
    each named by row and column. Returns how many accounts changed.
    """
    header = [re.sub(r"\s+", "", _cell(c)).lower() for c in (rows[0] if rows else [])]
    user_col, wecom_col, first = 0, 1, 0
    if any(h in _USER_HEADERS for h in header) and any(h in _WECOM_HEADERS for h in header):
        user_col = next(i for i, h in enumerate(header) if h in _USER_HEADERS)
        wecom_col = next(i for i, h in enumerate(header) if h in _WECOM_HEADERS)
        first = 1
    user_label = _cell(rows[0][user_col]) if first else "A"
    wecom_label = _cell(rows[0][wecom_col]) if first else "B"

    entries: list[tuple[int, str, str]] = []  # (spreadsheet row, user key, wecom id)
    for index in range(first, len(rows)):
        cells = [*rows[index], *[""] * (max(user_col, wecom_col) + 1)]
        key, wecom = _cell(cells[user_col]), _cell(cells[wecom_col])
        if key or wecom:
            entries.append((index + 1, key, wecom))
    if not entries:
        raise ValidationFailed(_("the file has no rows of user and WeCom user id"), field="file")

    keys = {key for _row, key, _wecom in entries}
    by_username = {u.username: u for u in User.objects.filter(username__in=keys)}
    phones = {normalise_phone(k) for k in keys if is_mobile(normalise_phone(k))}
    by_phone: dict[str, list[User]] = {}
    for candidate in User.objects.filter(phone__in=phones).order_by("pk"):
        by_phone.setdefault(normalise_phone(candidate.phone), []).append(candidate)

    problems: list[FieldProblem] = []
    chosen: dict[int, tuple[User, str]] = {}  # user pk → (user, id)
    first_row_of_user: dict[int, int] = {}
    first_row_of_id: dict[str, int] = {}
    for row, key, wecom in entries:
        user: User | None = by_username.get(key)
        if user is None:
            matches = by_phone.get(normalise_phone(key), []) if key else []
            if len(matches) > 1:
                problems.append(
                    _problem(
                        "ambiguous_user",
                        _("the phone %(key)s belongs to several accounts; give the username"),
                        {"key": key},
                        sheet=sheet,
                        row=row,
                        column=user_label,
                    )
                )
            elif matches:
                user = matches[0]
            else:
                problems.append(
                    _problem(
                        "unknown_user",
                        _("no account has the username or phone %(key)s"),
                        {"key": key or "—"},
                        sheet=sheet,
                        row=row,
                        column=user_label,
                    )
                )
        if not re.match(WECOM_USERID_RE, wecom):
            problems.append(
                _problem(
                    "bad_wecom_userid",
                    _(
                        "“%(value)s” is not a WeCom user id (1 to 64 letters, digits or _ - . @, "
                        "starting with a letter or digit)"
                    ),
                    {"value": wecom},
                    sheet=sheet,
                    row=row,
                    column=wecom_label,
                )
            )
        elif wecom.lower() in first_row_of_id:
            problems.append(
                _problem(
                    "duplicate_wecom_userid",
                    _("the WeCom user id %(value)s is also given in row %(other)s"),
                    {"value": wecom, "other": first_row_of_id[wecom.lower()]},
                    sheet=sheet,
                    row=row,
                    column=wecom_label,
                )
            )
        else:
            first_row_of_id[wecom.lower()] = row
        if user is None:
            continue
        if user.pk in first_row_of_user:
            problems.append(
                _problem(
                    "duplicate_user",
                    _("this account is also listed in row %(other)s"),
                    {"other": first_row_of_user[user.pk]},
                    sheet=sheet,
                    row=row,
                    column=user_label,
                )
            )
            continue
        first_row_of_user[user.pk] = row
        chosen[user.pk] = (user, wecom)

    # An id already bound to an account the file does not rebind stays bound there.
    wanted = {
        wecom.lower(): first_row_of_id[wecom.lower()]
        for _u, wecom in chosen.values()
        if wecom.lower() in first_row_of_id
    }
    holders = (
        User.objects.annotate(wecom_lower=Lower("wecom_userid"))
        .filter(wecom_lower__in=list(wanted))
        .exclude(pk__in=list(chosen))
    )
    for other in holders:
        problems.append(
            _problem(
                "wecom_userid_taken",
                _("the WeCom user id %(value)s is already bound to the account %(username)s"),
                {"value": other.wecom_userid, "username": other.username},
                sheet=sheet,
                row=wanted[other.wecom_userid.lower()],
                column=wecom_label,
            )
        )
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationFailed(
            _("the WeCom id file has %(count)s problems; nothing was written"),
            params={"count": len(problems)},
            field="file",
            problems=problems,
        )
    changed = [user for user, wecom in chosen.values() if user.wecom_userid != wecom]
    # Cleared first, so that two accounts swapping ids never meet the unique index half-way.
    User.objects.filter(pk__in=[u.pk for u in changed]).update(wecom_userid="")
    for user in changed:
        user.wecom_userid = chosen[user.pk][1]
    User.objects.bulk_update(changed, ["wecom_userid"])
    return len(changed)
