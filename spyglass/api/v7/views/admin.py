"""v7 Administrative API (read-only): account groups, users, roles, permissions. The same queries as v6's
(api/views/accounts.py) in v7's shapes."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from spyglass.accounts.models import Membership, Permission
from spyglass.accounts.roles import VIEW_USERS

from ...views.accounts import members_of, memberships_of, roles_of
from ..base import V7View
from ..conventions import href, iso, self_links

TAG = ["Administrative"]


def account_group_ref(group) -> dict:
    return {"aid": str(group.id), "accountGroupName": group.name}


def role_summary(role) -> dict:
    return {
        "name": role.name,
        "roleId": str(role.id),
        "isBuiltin": role.builtin,
        "hasManagementPermissions": role.has_management_permissions,
    }


def permission_summary(permission) -> dict:
    return {
        "label": permission.label,
        "permissionId": str(permission.id),
        "isManagementPermission": permission.is_management,
    }


def user_summary(user) -> dict:
    out = {
        "name": user.name,
        "email": user.email,
        "uid": str(user.id),
        "dateRegistered": iso(user.date_registered),
        "lastLogin": iso(user.last_login),
    }
    if user.default_account_group:
        out["loginAccountGroup"] = account_group_ref(user.default_account_group)
    out["_links"] = {"self": href(f"users/{user.id}")}
    return {k: v for k, v in out.items() if v is not None}


def _group_info(group, current: int, default: int) -> dict:
    return {
        **account_group_ref(group),
        "isCurrentAccountGroup": group.id == current,
        "isDefaultAccountGroup": group.id == default,
        "organizationName": group.organization.name,
        "orgId": str(group.organization_id),
    }


class AccountGroupListView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Account groups of the caller", tags=TAG)
    def get(self, request):
        current = self.access.account_group.id
        default = request.user.default_account_group_id or current
        groups = [_group_info(m.account_group, current, default) for m in memberships_of(request.user)]
        return Response({"accountGroups": groups, "_links": self_links(request)})


class AccountGroupDetailView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="One of the caller's account groups", tags=TAG)
    def get(self, request, group_id):
        membership = get_object_or_404(
            Membership.objects.select_related("account_group__organization"),
            user=request.user,
            account_group_id=self.str_id(group_id),
        )
        current = self.access.account_group.id
        default = request.user.default_account_group_id or current
        out = _group_info(membership.account_group, current, default)
        out["_links"] = self_links(request)
        return Response(out)


class UserListView(V7View):
    required_permissions = {"GET": VIEW_USERS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Users of the account group", tags=TAG)
    def get(self, request):
        users = [user_summary(u) for u in members_of(self.access).order_by("id")]
        return Response({"users": users, "_links": self_links(request)})


def user_detail(access, user) -> dict:
    memberships = (
        Membership.objects.filter(user=user, account_group__organization_id=access.organization_id)
        .select_related("account_group", "role")
        .prefetch_related("role__permissions")
        .order_by("account_group_id")
    )
    out = user_summary(user)
    out["accountGroupRoles"] = [
        {"accountGroup": account_group_ref(m.account_group), "roles": [role_summary(m.role)]} for m in memberships
    ]
    out["allAccountGroupRoles"] = []
    return out


class UserDetailView(V7View):
    required_permissions = {"GET": VIEW_USERS}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A user with roles per account group", tags=TAG)
    def get(self, request, uid):
        user = get_object_or_404(members_of(self.access), id=self.str_id(uid))
        return Response(user_detail(self.access, user))


class CurrentUserView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The caller", tags=TAG)
    def get(self, request):
        return Response(user_detail(self.access, request.user))


class RoleListView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Roles", tags=TAG)
    def get(self, request):
        roles = roles_of(self.access).prefetch_related("permissions").order_by("id")
        return Response({"roles": [role_summary(r) for r in roles], "_links": self_links(request)})


class RoleDetailView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A role with its permissions", tags=TAG)
    def get(self, request, role_id):
        role = get_object_or_404(roles_of(self.access).prefetch_related("permissions"), id=self.str_id(role_id))
        out = role_summary(role)
        del out["hasManagementPermissions"]  # not in v7's RoleDetail
        out["permissions"] = [permission_summary(p) for p in role.permissions.order_by("id")]
        out["_links"] = self_links(request)
        return Response(out)


class PermissionListView(V7View):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Permissions", tags=TAG)
    def get(self, request):
        permissions = [permission_summary(p) for p in Permission.objects.order_by("id")]
        return Response({"permissions": permissions, "_links": self_links(request)})
