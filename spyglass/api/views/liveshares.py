"""Live share endpoints (beyond ThousandEyes, in its style): list, create, accept, decline, drop, revoke."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from spyglass.accounts.roles import VIEW_TESTS
from spyglass.lib.timefmt import format_v6_date
from spyglass.liveshares import services
from spyglass.monitoring.test_validation import StrictIntegerField
from spyglass.sharing import services as sharing
from spyglass.sharing.errors import SharingError

from ..base import V6View
from .snapshots import as_api_error


class LiveShareCreateSerializer(serializers.Serializer):
    testId = StrictIntegerField(min_value=1, max_value=2**62)
    aid = StrictIntegerField(min_value=1, max_value=2**62, required=False, help_text="inside the organization")
    email = serializers.EmailField(max_length=254, required=False, help_text="a login e-mail, outside")

    def validate(self, attrs):
        if ("aid" in attrs) == ("email" in attrs):
            raise serializers.ValidationError(
                {
                    "aid": "give either aid (an account group of your organization) or email (a user of another "
                    "organization)"
                }
            )
        return attrs


def derived_snapshot(snapshot) -> dict:
    """A snapshot a recipient made of the shared test, as its sharer sees it: what it is, who made it and when, and
    how often it was opened; never its link, comments or visitors."""
    return {
        "id": snapshot.id,
        "displayName": snapshot.display_name,
        "isPublic": int(snapshot.is_public),
        "createdBy": snapshot.created_by.display if snapshot.created_by else None,
        "shareDate": format_v6_date(snapshot.created_date),
        "startRoundId": snapshot.start_round,
        "endRoundId": snapshot.end_round,
        "expiresDate": format_v6_date(snapshot.expires_date),
        "visits": snapshot.visit_count,
    }


def live_share(share, direction: str, snapshots=()) -> dict:
    """One share as the caller sees it. aid/accountGroupName and organizationName name the other party; email is
    the invited address. The accepting organization's name appears only once it accepted: a pending invitation
    never reveals whether the address has an account. An outgoing share lists the snapshots its recipients made
    of the test (`snapshots`), which end with it."""
    out = {
        "id": share.id,
        "testId": share.test_id,
        "testName": share.test.name,
        "direction": direction,
    }
    if share.inside:
        other = share.recipient_group if direction == "outgoing" else share.sharer
        out.update(aid=other.id, accountGroupName=other.name)
    else:
        if direction == "outgoing":
            decided = share.recipient_organization if share.status in (share.ACCEPTED, share.DROPPED) else None
            organization = decided.name if decided else None
        else:
            organization = share.sharer.organization.name
        out.update(email=share.recipient_email, organizationName=organization)
    out.update(
        status=share.status,
        sharedBy=share.created_by.display if share.created_by else None,
        createdDate=format_v6_date(share.created_date),
        acceptedDate=format_v6_date(share.accepted_date) if share.accepted_date else None,
        droppedDate=format_v6_date(share.dropped_date) if share.dropped_date else None,
    )
    if direction == "outgoing":
        out["snapshots"] = [derived_snapshot(s) for s in snapshots]
    return out


class LiveShareListView(V6View):
    required_permissions = {"GET": VIEW_TESTS}

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Live shares the account group sent and received",
        operation_id="live_shares_list",
    )
    def get(self, request, format=None):
        shares = services.listing(self.access)
        derived = sharing.derived_from([s.id for s, direction in shares if direction == "outgoing"])
        return Response({"liveShares": [live_share(s, d, derived.get(s.id, ())) for s, d in shares]})


class LiveShareCreateView(V6View):
    @extend_schema(
        request=LiveShareCreateSerializer,
        responses={201: OpenApiTypes.OBJECT},
        summary="Share a test live: {testId, aid} inside the organization or {testId, email} outside; pending until "
        "accepted",
    )
    def post(self, request, format=None):
        body = LiveShareCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        share = services.create(self.access, data["testId"], aid=data.get("aid"), email=data.get("email"))
        shares = services.outgoing(self.access).select_related("test", "recipient_group", "created_by")
        share = get_object_or_404(shares, id=share.id)  # revoked in the meantime: gone
        return Response({"liveShares": [live_share(share, "outgoing")]}, status=status.HTTP_201_CREATED)


class LiveShareDecisionView(V6View):
    decide = None  # services.accept or services.decline

    def post(self, request, share_id, format=None):
        share_id = self.int_id(share_id)
        self.decide(self.access, share_id)
        shares = services.incoming(self.access).select_related("test", "sharer__organization", "created_by")
        return Response({"liveShares": [live_share(get_object_or_404(shares, id=share_id), "incoming")]})


class LiveShareAcceptView(LiveShareDecisionView):
    decide = staticmethod(services.accept)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Accept an incoming live share")
    def post(self, request, share_id, format=None):
        return super().post(request, share_id, format)


class LiveShareDeclineView(LiveShareDecisionView):
    decide = staticmethod(services.decline)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Decline an incoming live share")
    def post(self, request, share_id, format=None):
        return super().post(request, share_id, format)


class LiveShareDropView(LiveShareDecisionView):
    decide = staticmethod(services.drop)

    @extend_schema(
        request=None,
        responses=OpenApiTypes.OBJECT,
        summary="Drop an accepted incoming live share: the test is no longer readable here, the sharer sees it dropped",
    )
    def post(self, request, share_id, format=None):
        return super().post(request, share_id, format)


class LiveShareDeleteView(V6View):
    @extend_schema(request=None, responses={204: None}, summary="Revoke a live share the account group sent")
    def post(self, request, share_id, format=None):
        services.revoke(self.access, self.int_id(share_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LiveShareSnapshotDeleteView(V6View):
    @extend_schema(
        request=None,
        responses={204: None},
        summary="Revoke a snapshot a recipient made of a test the account group shares (the share itself stays)",
    )
    def post(self, request, share_id, snapshot_id, format=None):
        try:
            sharing.revoke_derived(self.access, self.int_id(share_id), self.int_id(snapshot_id))
        except SharingError as exc:
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
