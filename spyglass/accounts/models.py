"""Organizations, account groups, users, roles and permissions, API tokens."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from spyglass.lib import tokens


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    created_date = models.DateTimeField(default=timezone.now)
    # An IANA name (accounts.services.set_time_zone checks it): the zone scheduled reports' times are in.
    time_zone = models.CharField(max_length=64, default="UTC")

    def __str__(self):
        return self.name


class AccountGroup(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="account_groups")
    name = models.CharField(max_length=200)
    created_date = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="uniq_account_group_name")]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        return self.create_user(email, password, is_superuser=True, **extra)


def display_of(name: str, email: str) -> str:
    """How v6 writes a person in createdBy/modifiedBy: 'Name (email)'."""
    return f"{name} ({email})"


class User(AbstractBaseUser, PermissionsMixin):
    """A person; logs in with their e-mail. What they may do is per account group, through Membership."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    date_registered = models.DateTimeField(default=timezone.now)
    default_account_group = models.ForeignKey(
        AccountGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]
    objects = UserManager()

    @property
    def display(self) -> str:
        return display_of(self.name, self.email)

    def __str__(self):
        return self.email


class Permission(models.Model):
    label = models.CharField(max_length=200, unique=True)
    is_management = models.BooleanField(default=False)

    def __str__(self):
        return self.label


class Role(models.Model):
    """Built-in roles have no organization; custom roles belong to one."""

    name = models.CharField(max_length=200)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE)
    builtin = models.BooleanField(default=False)
    # Regular Users are refused every write of the API, whatever their permissions say (v6 behaviour).
    read_only = models.BooleanField(default=False)
    permissions = models.ManyToManyField(Permission, blank=True)

    @property
    def has_management_permissions(self) -> bool:
        return any(p.is_management for p in self.permissions.all())

    def __str__(self):
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey(Role, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "account_group"], name="uniq_membership")]


class ApiToken(models.Model):
    """One API token per user; only its HMAC digest is stored."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token")
    digest = models.CharField(max_length=64, unique=True)
    created_date = models.DateTimeField(default=timezone.now)

    @classmethod
    def issue(cls, user) -> str:
        """Create or replace the user's token; returns the token, which is never stored or shown again."""
        token = tokens.new_token()
        cls.objects.update_or_create(
            user=user, defaults={"digest": tokens.digest(settings.SECRET_KEY, token), "created_date": timezone.now()}
        )
        return token


class RateCounter(models.Model):
    """A fixed-window counter shared by every app process (rate limits, failed logins)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="uniq_rate_counter")]
