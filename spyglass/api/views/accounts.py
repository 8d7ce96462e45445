"""Read-only v6 administrative endpoints: status, account groups, users, roles, permissions."""

import time

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from spyglass.accounts.models import Membership, Permission, Role, User
from spyglass.accounts.roles import VIEW_USERS

from .. import representations as rep
from ..base import V6View


class StatusView(APIView):
    """`GET /v6/status`: liveness; needs no credentials."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="API status")
    def get(self, request, format=None):
        return Response({"timestamp": int(time.time() * 1000)})


def memberships_of(user):
    """The caller's memberships with their groups and organizations, in group id order (both versions' lists)."""
    return (
        Membership.objects.filter(user=user).select_related("account_group__organization").order_by("account_group_id")
    )


class AccountGroupListView(V6View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Account groups of the caller")
    def get(self, request, format=None):
        current = self.access.account_group.id
        default = request.user.default_account_group_id or current
        groups = [
            {
                "aid": m.account_group.id,
                "accountGroupName": m.account_group.name,
                "current": int(m.account_group.id == current),
                "default": int(m.account_group.id == default),
                "organizationName": m.account_group.organization.name,
            }
            for m in memberships_of(request.user)
        ]
        return Response({"accountGroups": groups})


def members_of(access):
    return User.objects.filter(memberships__account_group=access.account_group).select_related("default_account_group")


class UserListView(V6View):
    required_permissions = {"GET": VIEW_USERS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Users of the account group", operation_id="users_list")
    def get(self, request, format=None):
        return Response({"users": [rep.user_summary(u) for u in members_of(self.access).order_by("id")]})


class UserDetailView(V6View):
    required_permissions = {"GET": VIEW_USERS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="User detail with roles per account group")
    def get(self, request, uid, format=None):
        user = get_object_or_404(members_of(self.access), id=self.int_id(uid))
        memberships = (
            Membership.objects.filter(user=user, account_group__organization_id=self.access.organization_id)
            .select_related("account_group", "role")
            .prefetch_related("role__permissions")
        )
        out = rep.user_summary(user)
        out["accountGroupRoles"] = [
            {"accountGroup": rep.account_group_ref(m.account_group), "roles": [rep.role_summary(m.role)]}
            for m in memberships
        ]
        return Response({"users": [out]})


def roles_of(access):
    return Role.objects.filter(organization__isnull=True) | Role.objects.filter(organization_id=access.organization_id)


class RoleListView(V6View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Roles", operation_id="roles_list")
    def get(self, request, format=None):
        roles = roles_of(self.access).prefetch_related("permissions").order_by("id")
        return Response({"roles": [rep.role_summary(r) for r in roles]})


class RoleDetailView(V6View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Role detail with permissions")
    def get(self, request, role_id, format=None):
        role = get_object_or_404(roles_of(self.access).prefetch_related("permissions"), id=self.int_id(role_id))
        out = rep.role_summary(role)
        out["permissions"] = [rep.permission_summary(p) for p in role.permissions.order_by("id")]
        return Response({"roles": [out]})


class PermissionListView(V6View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Permissions")
    def get(self, request, format=None):
        return Response({"permissions": [rep.permission_summary(p) for p in Permission.objects.order_by("id")]})
