"""v7 `POST /tests/{testId}/snapshot`: v7's own semantics over the one creating service. `startDate`/`endDate` are
ISO 8601 with a zone; `isPublic` is v7's: `true` makes a saved event (a private snapshot), `false` — the default —
a share link (v6's isPublic 1 is the share link). The same windows, permission, organization limit and 30-day
expiry as `POST /v6/snapshot` (api/views/snapshots.create_from_api)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions

from spyglass.accounts.roles import CREATE_SNAPSHOTS
from spyglass.monitoring.models import Test
from spyglass.sharing import links

from ...views.snapshots import create_from_api, created_response
from ..base import V7View
from ..conventions import href, iso, parse_iso
from ..shapes import simple_test

# The service names the window's fields as v6 does; v7 clients sent these.
_V7_FIELDS = {"from": "startDate", "to": "endDate"}


def _required_text(data, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise exceptions.ValidationError({name: "is required" if value is None else "must be a non-empty string"})
    return value


def snapshot_body(snapshot) -> dict:
    test = Test.objects.select_related("created_by", "modified_by").get(id=snapshot.test_id)
    return {
        "id": snapshot.link_id,
        "startRoundId": snapshot.start_round,
        "endRoundId": snapshot.end_round,
        "roundId": snapshot.round_id,
        "shareDate": iso(snapshot.created_date),
        "sourceTestId": str(snapshot.source_test_id),
        "testId": str(snapshot.test_id),
        "uid": str(snapshot.created_by_id),
        "displayName": snapshot.display_name,
        "extraParams": "",
        "isPublic": not snapshot.is_public,  # v7's meaning: true = saved event
        "anonymizeData": snapshot.anonymized,
        "test": simple_test(test),
        "_links": {
            "self": href(f"tests/{snapshot.source_test_id}/snapshot"),
            "appLink": {"href": links.view_url(snapshot.link_id)},
        },
    }


class SnapshotCreateView(V7View):
    required_permissions = {"POST": CREATE_SNAPSHOTS}

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiTypes.OBJECT},
        summary="Create a snapshot: a share link (isPublic false, the default) or a saved event (isPublic true)",
        description="`endDate - startDate` must be exactly 1, 2, 4, 6, 12, 24 or 48 hours; dates in ISO 8601 with a "
        "zone. Expires after 30 days. Limited per organization by SPYGLASS_SNAPSHOT_RATE.",
        tags=["Snapshots"],
    )
    def post(self, request, test_id):
        data = request.data
        display_name = _required_text(data, "displayName")
        start = parse_iso(_required_text(data, "startDate"), "startDate")
        end = parse_iso(_required_text(data, "endDate"), "endDate")
        saved_event = data.get("isPublic", False)
        if not isinstance(saved_event, bool):
            raise exceptions.ValidationError({"isPublic": "must be true (saved event) or false (share link)"})
        anonymize = data.get("anonymizeData", False)
        if not isinstance(anonymize, bool):
            raise exceptions.ValidationError({"anonymizeData": "must be true or false"})
        try:
            snapshot = create_from_api(
                self.access,
                self.str_id(test_id),
                int(start.timestamp()),
                int(end.timestamp()),
                request,
                display_name=display_name,
                is_public=not saved_event,
                anonymized=anonymize,
            )
        except exceptions.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            raise exceptions.ValidationError({_V7_FIELDS.get(k, k): v for k, v in detail.items()}) from None
        return created_response(snapshot_body(snapshot), snapshot)
