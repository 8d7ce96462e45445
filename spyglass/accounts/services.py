"""Creating people and organizations (used by the CLI, the demo and tests), and the organization's settings."""

import functools
import zoneinfo

from django.db import transaction

from . import roles
from .models import AccountGroup, Membership, Organization, Permission, Role, User


def ensure_builtin_roles() -> dict[str, Role]:
    """Create the built-in permissions and roles if missing (idempotent; also run by a data migration)."""
    found = _builtin_roles_as_they_should_be()
    if found is not None:
        return found
    perms = {}
    for label, management in roles.PERMISSIONS:
        perms[label], _ = Permission.objects.get_or_create(label=label, defaults={"is_management": management})
    result = {}
    for name, labels in roles.BUILTIN_ROLES.items():
        role, _ = Role.objects.get_or_create(
            name=name, organization=None, builtin=True, defaults={"read_only": name == roles.REGULAR_USER}
        )
        role.permissions.set([perms[label] for label in labels])
        result[name] = role
    return result


def _builtin_roles_as_they_should_be() -> dict[str, Role] | None:
    """The built-in roles in BUILTIN_ROLES' order when each exists once with exactly its permissions (two queries:
    what every user creation finds after the first), else None."""
    stored = list(Role.objects.filter(organization=None, builtin=True).prefetch_related("permissions"))
    by_name = {role.name: role for role in stored}
    if len(stored) != len(by_name) or set(by_name) != set(roles.BUILTIN_ROLES):
        return None
    for name, labels in roles.BUILTIN_ROLES.items():
        if {p.label for p in by_name[name].permissions.all()} != set(labels):
            return None
    return {name: by_name[name] for name in roles.BUILTIN_ROLES}


class UserInputError(ValueError):
    pass


@transaction.atomic
def create_user(email: str, password: str, name: str, org: str, account_groups: list[str], role: str) -> User:
    """Create the user (or reuse it), the organization and account groups when missing, and the memberships."""
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise UserInputError(f"'{email}' is not an e-mail address")
    if not account_groups:
        raise UserInputError("at least one --account-group is needed")
    builtin = ensure_builtin_roles()
    role_obj = builtin.get(role)
    if role_obj is None:
        raise UserInputError(f"unknown role '{role}'; built-in roles are: {', '.join(builtin)}")
    organization, _ = Organization.objects.get_or_create(name=org.strip())
    user = User.objects.filter(email=email).first()
    if user is None:
        if not password:
            raise UserInputError("a new user needs --password")
        user = User.objects.create_user(email=email, password=password, name=name or email)
    else:
        other_org = Membership.objects.filter(user=user).exclude(account_group__organization=organization).exists()
        if other_org:
            raise UserInputError(f"{email} already belongs to another organization")
    for group_name in account_groups:
        group, _ = AccountGroup.objects.get_or_create(organization=organization, name=group_name.strip())
        Membership.objects.update_or_create(user=user, account_group=group, defaults={"role": role_obj})
        if user.default_account_group_id is None:
            user.default_account_group = group
            user.save(update_fields=["default_account_group"])
    return user


@functools.cache
def time_zone_names() -> list[str]:
    """Every IANA time zone name this system knows, sorted (the organization settings' choices)."""
    return sorted(zoneinfo.available_timezones() | {"UTC"})


def zone_of(organization: Organization) -> zoneinfo.ZoneInfo:
    """The organization's time zone (UTC should the stored name ever be unknown here)."""
    try:
        return zoneinfo.ZoneInfo(organization.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def set_time_zone(organization: Organization, name) -> None:
    """Set the organization's time zone to an IANA name ("Europe/Berlin"); anything else is a UserInputError."""
    if not isinstance(name, str) or name.strip() not in time_zone_names():
        raise UserInputError(f"'{str(name)[:80]}' is not a time zone name such as Europe/Berlin or UTC")
    organization.time_zone = name.strip()
    organization.save(update_fields=["time_zone"])
