"""v7 `POST /tests/{testId}/snapshot` through the official SDK against a live server: v7's isPublic (true = saved
event), ISO dates, the link opened signed out, and the same rules as v6 (windows, permission, tenancy)."""

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.snapshots import TestSnapshotsApi as SnapshotsApi
from thousandeyes_sdk.snapshots.models import SnapshotRequest

from spyglass.monitoring.seed import seed
from spyglass.sharing.models import Snapshot
from tests.conftest import make_test

pytestmark = pytest.mark.django_db(transaction=True)


def _window(hours=1):
    end = datetime.fromtimestamp(time.time() // 3600 * 3600, UTC)
    return end - timedelta(hours=hours), end


def _open_signed_out(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_share_link_by_default_that_opens_signed_out(cast, v7):
    test = make_test(cast.owner, "http-server", name="shop")
    seed(test, agents=2, hours=2, random_seed=1, now=time.time())
    start, end = _window()
    created = SnapshotsApi(v7(cast.owner)).create_test_snapshot(
        str(test.id), SnapshotRequest(displayName="for the ISP", startDate=start, endDate=end)
    )
    assert created.display_name == "for the ISP" and created.source_test_id == str(test.id)
    assert (created.start_round_id, created.end_round_id) == (int(start.timestamp()), int(end.timestamp()))
    assert created.share_date.tzinfo is not None and created.test.saved_event is True
    snapshot = Snapshot.objects.get(link_id=created.id)
    assert snapshot.is_public and snapshot.expires_date - snapshot.created_date == timedelta(days=30)
    assert _open_signed_out(created.links.app_link.href) == 200


def test_is_public_true_makes_a_saved_event_that_does_not_open_signed_out(cast, v7):
    test = make_test(cast.owner, "http-server", name="shop")
    start, end = _window(2)
    created = SnapshotsApi(v7(cast.owner)).create_test_snapshot(
        str(test.id), SnapshotRequest(displayName="ours", startDate=start, endDate=end, isPublic=True)
    )
    assert not Snapshot.objects.get(link_id=created.id).is_public
    assert _open_signed_out(created.links.app_link.href) != 200


def test_refusals_name_the_v7_fields_and_hide_other_tenants(cast, v7):
    test = make_test(cast.owner, "http-server", name="shop")
    start, _ = _window()
    with pytest.raises(ApiException) as bad:
        SnapshotsApi(v7(cast.owner)).create_test_snapshot(
            str(test.id),
            SnapshotRequest(displayName="odd", startDate=start, endDate=start + timedelta(minutes=90)),
        )
    assert bad.value.status == 400 and bad.value.data.errors[0].var_field == "endDate"
    request = SnapshotRequest(displayName="x", startDate=start, endDate=start + timedelta(hours=1))
    with pytest.raises(ApiException) as regular:
        SnapshotsApi(v7(cast.regular)).create_test_snapshot(str(test.id), request)
    assert regular.value.status == 403
    for outsider in (cast.other_group, cast.other_org):
        with pytest.raises(ApiException) as hidden:
            SnapshotsApi(v7(outsider)).create_test_snapshot(str(test.id), request)
        assert hidden.value.status == 404
    assert not Snapshot.objects.exists()
