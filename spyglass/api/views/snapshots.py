"""Snapshot endpoints: POST /v6/snapshot exactly as ThousandEyes documents it, plus what it lacks — list, detail
(visits, comments), update and delete of the caller's account group's snapshots. All the work is in
spyglass.sharing.services; this module parses requests and writes v6 shapes."""

from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.lib.timefmt import DateParseError, epoch, format_v6_date, parse_v6_date
from spyglass.monitoring.test_validation import AgentRefSerializer, FlagField, StrictIntegerField, TextField
from spyglass.sharing import links, services
from spyglass.sharing.errors import SharingError

from ..base import V6View


def as_api_error(exc: SharingError) -> exceptions.APIException:
    if exc.status == 429:
        # The message already says the wait: Throttled(wait=…) would append "Expected available in …" a second time.
        error = exceptions.Throttled(detail=exc.message)
        error.wait = exc.retry_after  # → Retry-After
        return error
    if exc.status == 404:
        return exceptions.NotFound("Not found")
    if exc.status == 403:
        return exceptions.PermissionDenied(exc.message)
    return exceptions.ValidationError({exc.field: exc.message} if exc.field else exc.message)


def _date(value, field: str):
    try:
        return parse_v6_date(value)
    except DateParseError as exc:
        raise exceptions.ValidationError({field: str(exc)}) from None


class SnapshotCreateSerializer(serializers.Serializer):
    testId = StrictIntegerField(min_value=1, max_value=2**62)
    displayName = TextField(max_length=255)
    to = serializers.CharField(max_length=40, trim_whitespace=False)
    isPublic = FlagField(required=False, default=False)
    # spyglass additions, all optional
    agents = AgentRefSerializer(many=True, required=False, help_text="agents to include (default: all)")
    recipients = serializers.ListField(child=serializers.CharField(max_length=254), required=False, max_length=20)
    note = TextField(max_length=2000, required=False, allow_blank=True, multiline=True)
    commentsSignedInOnly = FlagField(required=False, default=True)
    anonymizeData = FlagField(
        required=False, default=False, help_text="1 = agents, their addresses and internal hops as pseudonyms"
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(max_length=40, trim_whitespace=False)  # a Python keyword
        return fields


class SnapshotUpdateSerializer(serializers.Serializer):
    displayName = TextField(max_length=255, required=False)
    commentsSignedInOnly = FlagField(required=False)
    expiresDate = serializers.CharField(max_length=40, required=False, allow_null=True, help_text="null = never")


def link_body(snapshot) -> dict:
    """The 201 body of the reference's example, field for field."""
    return {
        "link": {
            "displayName": snapshot.display_name,
            "endRoundId": snapshot.end_round,
            "extraParams": "",
            "linkId": snapshot.link_id,
            "roundId": snapshot.round_id,
            "shareDate": format_v6_date(snapshot.created_date),
            "sourceTestId": snapshot.source_test_id,
            "startRoundId": snapshot.start_round,
            "testId": snapshot.test_id,
            "uid": snapshot.created_by_id,
            "viewUrl": links.view_url(snapshot.link_id),
        },
        "test": [],
    }


def snapshot_summary(snapshot, visits: int) -> dict:
    return {
        "linkId": snapshot.link_id,
        "displayName": snapshot.display_name,
        "testId": snapshot.test_id,
        "sourceTestId": snapshot.source_test_id,
        "testName": snapshot.test.name,
        "startRoundId": snapshot.start_round,
        "endRoundId": snapshot.end_round,
        "roundId": snapshot.round_id,
        "position": snapshot.position,
        "isPublic": int(snapshot.is_public),
        "shareDate": format_v6_date(snapshot.created_date),
        "createdBy": snapshot.created_by.display if snapshot.created_by else None,
        "expiresDate": format_v6_date(snapshot.expires_date),
        "visits": visits,
        "viewUrl": links.view_url(snapshot.link_id),
        "commentsSignedInOnly": int(snapshot.comments_signed_in_only),
        "anonymizeData": int(snapshot.anonymized),
    }


def snapshot_detail(snapshot) -> dict:
    out = snapshot_summary(snapshot, snapshot.visits.count())
    visits = snapshot.visits.select_related("user").order_by("-date", "-id")[:20]
    out["recentVisits"] = [
        {"date": format_v6_date(v.date), "ip": v.ip, "user": v.user.display if v.user else None} for v in visits
    ]
    out["comments"] = comments_of(snapshot)
    return out


def comments_of(snapshot) -> list[dict]:
    """A test or dashboard snapshot's comments as v6 gives them, oldest first, guests marked."""
    return [
        {"date": format_v6_date(c.date), "author": c.author_name, "guest": int(c.by_guest), "body": c.body}
        for c in snapshot.comments.order_by("date", "id")
    ]


IDEMPOTENCY_HEADER = "Idempotency-Key"


def created_response(body, snapshot) -> Response:
    """201 with the snapshot, also for a request repeated with the same Idempotency-Key (the same body, and
    `Idempotent-Replayed: true` saying no second snapshot was made)."""
    response = Response(body, status=status.HTTP_201_CREATED)
    if getattr(snapshot, "replayed", False):
        response["Idempotent-Replayed"] = "true"
    return response


def create_from_api(access, test_id: int, start: int, end: int, request=None, **options):
    """A snapshot of [start, end) (epoch seconds) as both API versions create it: a window of a whole number of
    hours starting at `start`, the API's 30-day expiry, through the one creating service (which checks the
    permission, the allowed lengths and the organization's limit). The request's `Idempotency-Key` header, when
    sent, makes a retried request return the snapshot the first one made (services.create_snapshot)."""
    if request is not None:
        options["idempotency_key"] = request.headers.get(IDEMPOTENCY_HEADER, "")
    length = end - start
    hours = length // 3600 if length > 0 and length % 3600 == 0 else None
    try:
        return services.create_snapshot(
            access,
            test_id,
            hours=hours,
            anchor=start,
            position="starting",
            expires_in_days=services.API_EXPIRY_DAYS,
            origin="api",
            **options,
        )
    except SharingError as exc:
        raise as_api_error(exc) from None


class SnapshotBaseView(V6View):
    def snapshots(self):
        return services.visible_snapshots(self.access).select_related("test", "created_by")

    def get_snapshot(self, link_id):
        snapshot = links.find_snapshot(link_id, self.snapshots())
        if snapshot is None:
            raise exceptions.NotFound("Not found")
        return snapshot


class SnapshotCreateView(SnapshotBaseView):
    required_permissions = {"POST": CREATE_SNAPSHOTS}

    @extend_schema(
        request=SnapshotCreateSerializer,
        responses={201: OpenApiTypes.OBJECT},
        summary="Create a snapshot (share link or saved event)",
        description="`to - from` must be exactly 1, 2, 4, 6, 12, 24 or 48 hours. A window wholly in the future is "
        "refused; one reaching past now ends at the round in progress (`endRoundId`). Snapshots made here expire "
        "after 30 days. A snapshot of a live-shared test ends with the share. Limited per organization by "
        "SPYGLASS_SNAPSHOT_RATE (default 5 per 5 minutes and 10 per hour). Comments on the link are for signed-in "
        "users only unless `commentsSignedInOnly` is 0. An `Idempotency-Key` header (8 to 64 letters, digits, '-', "
        "'_') makes a repeated request with the same key return the snapshot the first made — no second snapshot, "
        "no e-mail sent twice, nothing counted against the limit (`Idempotent-Replayed: true`). `anonymizeData` 1 shows "
        "agents, their addresses and the hops inside your network as pseudonyms (Agent 1, Hop 3) everywhere the "
        "snapshot is read.",
    )
    def post(self, request, format=None):
        serializer = SnapshotCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        snapshot = create_from_api(
            self.access,
            data["testId"],
            epoch(_date(data["from"], "from")),
            epoch(_date(data["to"], "to")),
            request,
            display_name=data["displayName"],
            is_public=data["isPublic"],
            agent_ids=[a["agentId"] for a in data["agents"]] if "agents" in data else None,
            recipients=data.get("recipients", []),
            note=data.get("note", ""),
            comments_signed_in_only=data["commentsSignedInOnly"],
            anonymized=data["anonymizeData"],
        )
        return created_response(link_body(snapshot), snapshot)


class SnapshotListView(SnapshotBaseView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="Snapshots of the account group", operation_id="snapshots_list"
    )
    def get(self, request, format=None):
        snapshots = self.snapshots().annotate(visit_count=Count("visits")).order_by("-created_date", "-id")
        return Response({"snapshot": [snapshot_summary(s, s.visit_count) for s in snapshots]})


class SnapshotDetailView(SnapshotBaseView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Snapshot detail with recent visits and comments",
        operation_id="snapshots_detail",
    )
    def get(self, request, link_id, format=None):
        return Response({"snapshot": [snapshot_detail(self.get_snapshot(link_id))]})


class SnapshotUpdateView(SnapshotBaseView):
    @extend_schema(request=SnapshotUpdateSerializer, responses=OpenApiTypes.OBJECT, summary="Update a snapshot")
    def post(self, request, link_id, format=None):
        snapshot = self.get_snapshot(link_id)
        serializer = SnapshotUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        changes = {}
        if "displayName" in data:
            changes["display_name"] = data["displayName"]
        if "commentsSignedInOnly" in data:
            changes["comments_signed_in_only"] = data["commentsSignedInOnly"]
        if "expiresDate" in data:
            raw = data["expiresDate"]
            changes["expires_date"] = None if raw in (None, "", "never") else _date(raw, "expiresDate")
        try:
            snapshot = services.update_snapshot(self.access, snapshot, changes)
        except SharingError as exc:
            raise as_api_error(exc) from None
        return Response({"snapshot": [snapshot_detail(snapshot)]})


class SnapshotDeleteView(SnapshotBaseView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke a snapshot (its link answers 404 at once)")
    def post(self, request, link_id, format=None):
        try:
            services.revoke_snapshot(self.access, self.get_snapshot(link_id))
        except SharingError as exc:
            raise as_api_error(exc) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
