"""Who is calling the API and what they may do: credentials, organization, role and key
scope, and per-key rate limits. Kept apart from config.api because DRF imports these classes
while its own views module is still loading."""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.db import connections, router
from django.utils import timezone
from django_ratelimit.core import get_usage
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.throttling import BaseThrottle

from accounts.models import (
    AccessToken,
    ApiKey,
    Membership,
    Organization,
    Plan,
    Role,
    Scope,
    User,
    hash_secret,
)

# ---------------------------------------------------------------- authentication


def _credential_from_headers(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        value = value.strip()
        if not value:
            raise exceptions.AuthenticationFailed(
                "The Authorization header has no token after Bearer."
            )
        return value
    # Another Authorization scheme (Basic from a proxy, say) is not ours: fall back to X-API-Key.
    api_key = request.META.get("HTTP_X_API_KEY", "").strip()
    return api_key or None


def _attach_org(request, membership: Membership) -> None:
    request.org = membership.organization
    request.membership = membership
    # The plain Django request too, so the request log line names the organization.
    request._request.org = membership.organization


# Every API request looks up its credential and membership: as hand-written SQL built once
# from the models' fields, because building and compiling the same ORM queries (a
# select_related of three tables) cost several times their round trips. Nothing is
# cached: a revoked key, a removed member or a changed role counts from the next request.


def _converted(db, model, alias: str):
    """The model's concrete fields, their `alias.column` SQL and their value converters,
    as the ORM's compiler would apply them."""
    connection = connections[db]
    quote = connection.ops.quote_name
    fields = []
    for field in model._meta.concrete_fields:
        col = field.get_col(alias)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        fields.append((field, f"{alias}.{quote(field.column)}", (col, converters)))
    return fields


@functools.cache
def _credential_query(model, db: str):
    """(SQL, fields of the credential, user, organization and plan) for one key hash."""
    quote = connections[db].ops.quote_name
    parts = [
        (model, "c", _converted(db, model, "c")),
        (User, "u", _converted(db, User, "u")),
        (Organization, "o", _converted(db, Organization, "o")),
        (Plan, "p", _converted(db, Plan, "p")),
    ]
    columns = ", ".join(sql for _model, _alias, fields in parts for _f, sql, _c in fields)
    table = {m: quote(m._meta.db_table) for m in (model, User, Organization, Plan)}
    sql = (
        f"SELECT {columns} FROM {table[model]} c"  # noqa: S608 (names from the models)
        f" INNER JOIN {table[User]} u ON u.id = c.user_id"
        f" INNER JOIN {table[Organization]} o ON o.id = c.organization_id"
        f" LEFT OUTER JOIN {table[Plan]} p ON p.id = o.plan_id"
        " WHERE c.key_hash = %s"
    )
    return sql, [(m, fields) for m, _alias, fields in parts]


def _instance(model, db: str, fields, values):
    converted = []
    for (_field, _sql, (col, converters)), value in zip(fields, values, strict=True):
        for converter in converters:
            value = converter(value, col, connections[db])
        converted.append(value)
    return model.from_db(db, None, converted)


def _credential_with_hash(model, key_hash: str):
    """The credential with this hash, its user, organization and plan loaded, as
    `select_related("user", "organization", "organization__plan")` would; or None."""
    db = router.db_for_read(model)
    sql, parts = _credential_query(model, db)
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    instances = []
    start = 0
    for part_model, fields in parts:
        values = row[start : start + len(fields)]
        start += len(fields)
        if part_model is Plan and values[0] is None:
            instances.append(None)  # an organization without a plan
        else:
            instances.append(_instance(part_model, db, fields, values))
    credential, user, organization, plan = instances
    organization.plan = plan
    credential.user = user
    credential.organization = organization
    return credential


def _membership_of(credential) -> Membership | None:
    """The credential's user's membership of its organization, loaded as
    `.only("id", "role", "organization_id", "user_id")` would (the rest deferred)."""
    db = router.db_for_read(Membership)
    quote = connections[db].ops.quote_name
    with connections[db].cursor() as cursor:
        cursor.execute(
            f"SELECT id, role FROM {quote(Membership._meta.db_table)}"  # noqa: S608
            " WHERE organization_id = %s AND user_id = %s",
            [credential.organization_id, credential.user_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    loaded = {
        "id": row[0],
        "organization_id": credential.organization_id,
        "user_id": credential.user_id,
        "role": row[1],
    }
    names = [f.attname for f in Membership._meta.concrete_fields if f.attname in loaded]
    return Membership.from_db(db, names, [loaded[name] for name in names])


class KeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <api key or token>` or `X-API-Key: <api key>`.

    The credential acts as its user within its organization, while that user is still a
    member there; `request.auth` is the ApiKey or AccessToken.
    """

    def authenticate(self, request):
        raw = _credential_from_headers(request)
        if raw is None:
            return None
        if raw.startswith(ApiKey.PREFIX):
            model = ApiKey
        elif raw.startswith(AccessToken.PREFIX):
            model = AccessToken
        else:
            raise exceptions.AuthenticationFailed("The API key or token is not valid.")
        credential = _credential_with_hash(model, hash_secret(raw))
        if credential is None:
            raise exceptions.AuthenticationFailed("The API key or token is not valid.")
        if credential.revoked_at:
            raise exceptions.AuthenticationFailed("This API key or token has been revoked.")
        if credential.expires_at and credential.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("This API key or token has expired.")
        user = credential.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API key is deactivated.")
        membership = _membership_of(credential)
        if membership is None:
            raise exceptions.AuthenticationFailed(
                "The user of this API key is no longer a member of its organization."
            )
        membership.organization = credential.organization
        credential.touch()
        _attach_org(request, membership)
        return user, credential

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,60}$")


class CsrfFailed(exceptions.PermissionDenied):
    default_code = "csrf_failed"


class CsrfSessionAuthentication(SessionAuthentication):
    """The browser's session (with CSRF on unsafe methods). The organization is the one
    named by the `X-Organization` header (a slug), else the user's last one."""

    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied as exc:
            raise CsrfFailed(
                f"{exc.detail} Send the csrftoken cookie's value in the X-CSRFToken header."
            ) from None

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        memberships = Membership.objects.select_related(
            "organization", "organization__plan"
        ).filter(user=user)
        slug = request.META.get("HTTP_X_ORGANIZATION", "").strip()
        if slug:
            # Anything but a slug cannot name an organization (and a NUL would make
            # PostgreSQL refuse the query).
            membership = (
                memberships.filter(organization__slug=slug).first() if _SLUG.match(slug) else None
            )
            if membership is None:
                raise exceptions.NotFound("No such organization.")
        else:
            membership = (
                memberships.filter(organization_id=user.last_organization_id).first()
                if user.last_organization_id
                else None
            ) or memberships.first()
        if membership is not None:
            _attach_org(request, membership)
        return result


# ---------------------------------------------------------------- permissions


class ScopeDenied(exceptions.PermissionDenied):
    def __init__(self, scope: str):
        self.scope = scope
        super().__init__(f"This API key does not have the {scope} scope.")


class HasOrganizationAccess(permissions.BasePermission):
    """Authenticated, inside an organization, with the key scope and the member role needed.

    Views declare `scope_family` (leads, enrichment, agents, campaigns, organization),
    `write_role` (default member) and optionally `read_role` (default viewer). Views that
    act on the user rather than an organization set `organization_required = False`.
    A view that forgets `scope_family` counts as organization administration, so a key
    scoped to one family never reaches it by omission.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not getattr(view, "organization_required", True):
            return True
        membership = getattr(request, "membership", None)
        if membership is None:
            raise exceptions.PermissionDenied("You are not a member of any organization.")
        write = request.method not in permissions.SAFE_METHODS
        family = getattr(view, "scope_family", None) or Scope.ORGANIZATION.value
        credential = request.auth
        if hasattr(credential, "allows") and not credential.allows(family, write):
            raise ScopeDenied(f"{family}:{'write' if write else 'read'}")
        needed = (
            getattr(view, "write_role", Role.MEMBER)
            if write
            else getattr(view, "read_role", Role.VIEWER)
        )
        if not membership.has_role(needed):
            role_label = Role(membership.role).label.lower()
            raise exceptions.PermissionDenied(
                f"Your role ({role_label}) cannot do this; it needs {Role(needed).label.lower()} or above."
            )
        return True


class IsStaff(permissions.BasePermission):
    """Staff users with two-factor authentication, as for /admin/. A personal token is
    refused (the password grant skips the second factor); an API key also needs the view's
    scope family, so a narrow key of a staff user cannot reach the whole installation."""

    def has_permission(self, request, view) -> bool:
        from allauth.mfa.utils import is_mfa_enabled

        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("Only staff can use this endpoint.")
        if not is_mfa_enabled(request.user):
            raise exceptions.PermissionDenied(
                "Staff need two-factor authentication for this endpoint; set it up first."
            )
        if isinstance(request.auth, AccessToken):
            raise exceptions.PermissionDenied(
                "Use an API key or a browser session here: personal tokens skip two-factor "
                "authentication."
            )
        write = request.method not in permissions.SAFE_METHODS
        family = getattr(view, "scope_family", None) or Scope.ORGANIZATION.value
        credential = request.auth
        if hasattr(credential, "allows") and not credential.allows(family, write):
            raise ScopeDenied(f"{family}:{'write' if write else 'read'}")
        return True


# ---------------------------------------------------------------- rate limits


def _api_rate(group: str, request) -> str:
    org = getattr(request, "org", None)
    plan = getattr(org, "plan", None) if org else None
    return (plan.api_rate_limit if plan and plan.api_rate_limit else "") or settings.API_RATE_LIMIT


def _api_rate_key(group: str, request) -> str:
    credential = getattr(request, "auth", None)
    if credential is not None and getattr(credential, "pk", None):
        return f"{type(credential).__name__}:{credential.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


class KeyRateThrottle(BaseThrottle):
    """Per API key (or per user for sessions): the plan's rate, else API_RATE_LIMIT."""

    group = "api"
    key = staticmethod(_api_rate_key)
    rate = staticmethod(_api_rate)

    def allow_request(self, request, view) -> bool:
        self._wait = None
        result = get_usage(request, group=self.group, key=self.key, rate=self.rate, increment=True)
        if result is None or not result["should_limit"]:
            return True
        self._wait = max(result["time_left"], 1)
        return False

    def wait(self) -> float | None:
        return self._wait


def _client_ip(group: str, request) -> str:
    from django_ratelimit.core import _SIMPLE_KEYS

    return _SIMPLE_KEYS["ip"](request)


class LoginRateThrottle(KeyRateThrottle):
    """Per client IP, for the password endpoints (`LOGIN_RATE_LIMIT`)."""

    group = "login"
    key = staticmethod(_client_ip)
    rate = staticmethod(lambda group, request: settings.LOGIN_RATE_LIMIT)


class SignupRateThrottle(LoginRateThrottle):
    group = "signup"
    rate = staticmethod(lambda group, request: settings.SIGNUP_RATE_LIMIT)
