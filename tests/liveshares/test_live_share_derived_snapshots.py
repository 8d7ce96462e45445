"""What a recipient derives from a live-shared test ends with the share: the recipient may snapshot it (rounds from the
share's start on) while the share lasts, the sharer sees every such snapshot and may revoke one on its own, and
whatever ends the share — revoking it, unchecking the group, deleting the test — ends every derived snapshot in the
same transaction: its link, download, comments and API detail answer 404 from the moment that call returns."""

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from spyglass.accounts.roles import access_for
from spyglass.liveshares import services
from spyglass.monitoring.models import RetentionPin, Test
from spyglass.sharing.models import Snapshot
from tests.conftest import make_agent, make_test

from .conftest import accept, write_net_rounds
from .test_live_share_read_scope import AFTER, BASE, v6

ANYONE = "203.0.113.9"


def snapshot_body(test, is_public=1, name="their copy"):
    return {
        "testId": test.id,
        "displayName": name,
        "from": v6(BASE),
        "to": v6(BASE + 3600),
        "isPublic": is_public,
    }


@pytest.fixture
def outside(cast, time_machine):
    """Acme (the owner's group) live-shares a test with Globex (cast.other_org), which accepts an hour later."""
    test = make_test(cast.owner, name="checkout")
    time_machine.move_to(datetime.fromtimestamp(BASE - 30, UTC), tick=False)
    share = services.create(access_for(cast.teammate.user, None), test.id, email=cast.other_org.user.email)
    time_machine.move_to(datetime.fromtimestamp(BASE + 3 * 3600, UTC), tick=False)
    write_net_rounds(test, make_agent(cast.owner), AFTER)
    assert accept(cast.other_org, share.id).status_code == 200
    return test, share


def derive(cast, test, **options):
    created = cast.other_org.client.post("/v6/snapshot.json", snapshot_body(test, **options), format="json")
    assert created.status_code == 201, created.content
    return created.json()["link"]


def answers_of(link_id: str) -> dict:
    anyone = Client(REMOTE_ADDR=ANYONE)
    return {
        "page": anyone.get(f"/s/{link_id}/").status_code,
        "json": anyone.get(f"/s/{link_id}/download.json").status_code,
        "csv": anyone.get(f"/s/{link_id}/download.csv").status_code,
        "comment": anyone.post(f"/s/{link_id}/comments", {"name": "Eve", "body": "still here?"}).status_code,
    }


def test_revoking_the_live_share_ends_the_recipients_public_snapshot_at_once(cast, outside):
    """The reported attack: the recipient's public link kept serving the sharer's rows after the revocation."""
    test, share = outside
    link = derive(cast, test)
    download = Client(REMOTE_ADDR=ANYONE).get(f"/s/{link['linkId']}/download.json")
    assert download.status_code == 200
    assert json.loads(b"".join(download.streaming_content))["net"]["metrics"][0]["roundId"] == AFTER[0]

    assert cast.teammate.client.post(f"/v6/live-shares/{share.id}/delete.json").status_code == 204

    assert cast.other_org.client.get(f"/v6/tests/{test.id}.json").status_code == 404
    assert answers_of(link["linkId"]) == {"page": 404, "json": 404, "csv": 404, "comment": 404}
    assert cast.other_org.client.get(f"/v6/snapshots/{link['linkId']}.json").status_code == 404
    assert cast.other_org.client.get(f"/v6/net/metrics/{link['testId']}.json").status_code == 404
    assert cast.owner.client.get(f"/v6/net/metrics/{link['testId']}.json").status_code == 404
    # Nothing of it is left behind: no snapshot, no frozen test row, no pin holding the sharer's rows.
    assert not Snapshot.objects.exists()
    assert not Test.objects.filter(saved_event=True).exists()
    assert not RetentionPin.objects.exists()


def test_unchecking_the_account_group_ends_its_snapshots_too(cast, time_machine):
    test = make_test(cast.owner, name="edge")
    time_machine.move_to(datetime.fromtimestamp(BASE - 30, UTC), tick=False)
    share = services.create(access_for(cast.owner.user, None), test.id, aid=cast.other_group.aid)
    time_machine.move_to(datetime.fromtimestamp(BASE + 3 * 3600, UTC), tick=False)
    write_net_rounds(test, make_agent(cast.owner), AFTER)
    assert accept(cast.other_group, share.id).status_code == 200
    created = cast.other_group.client.post("/v6/snapshot.json", snapshot_body(test), format="json")
    assert created.status_code == 201, created.content
    link_id = created.json()["link"]["linkId"]

    unchecked = cast.owner.client.post(
        f"/v6/tests/agent-to-server/{test.id}/update.json", {"sharedWithAccounts": []}, format="json"
    )
    assert unchecked.status_code == 200, unchecked.content
    assert answers_of(link_id)["json"] == 404
    assert not Snapshot.objects.exists()


def test_deleting_the_shared_test_ends_the_recipients_snapshots_but_not_the_owners(cast, outside):
    test, _ = outside
    theirs = derive(cast, test)
    own = cast.owner.client.post("/v6/snapshot.json", snapshot_body(test, name="our own"), format="json")
    assert own.status_code == 201, own.content

    assert cast.owner.client.post(f"/v6/tests/agent-to-server/{test.id}/delete.json").status_code == 204

    assert answers_of(theirs["linkId"])["json"] == 404
    # The owner's own snapshot is frozen: deleting the test never changes what it shows.
    assert Client(REMOTE_ADDR=ANYONE).get(f"/s/{own.json()['link']['linkId']}/download.json").status_code == 200
    assert list(Snapshot.objects.values_list("display_name", flat=True)) == ["our own"]


def test_the_sharer_sees_what_recipients_made_of_the_test_and_may_revoke_one(cast, outside):
    test, share = outside
    public = derive(cast, test, name="for our provider")
    saved = derive(cast, test, is_public=0, name="kept inside")
    anyone = Client(REMOTE_ADDR=ANYONE)
    assert anyone.get(f"/s/{public['linkId']}/").status_code == anyone.get(f"/s/{public['linkId']}/").status_code == 200

    listing = cast.owner.client.get("/v6/live-shares.json")
    [sent] = listing.json()["liveShares"]
    assert [(s["displayName"], s["isPublic"], s["visits"]) for s in sent["snapshots"]] == [
        ("kept inside", 0, 0),
        ("for our provider", 1, 2),
    ]
    first = sent["snapshots"][1]
    assert set(first) == {
        "id",
        "displayName",
        "isPublic",
        "createdBy",
        "shareDate",
        "startRoundId",
        "endRoundId",
        "expiresDate",
        "visits",
    }
    assert first["createdBy"] == cast.other_org.user.display and first["startRoundId"] == BASE
    # What it is, never a way into it: neither link appears anywhere in the sharer's answer.
    assert public["linkId"].encode() not in listing.content and saved["linkId"].encode() not in listing.content
    # The recipient's own listing of the share does not carry the list.
    assert "snapshots" not in cast.other_org.client.get("/v6/live-shares.json").json()["liveShares"][0]

    path = f"/v6/live-shares/{share.id}/snapshots/{first['id']}/delete.json"
    for person in (cast.other_org, cast.other_group):  # the recipient and another group: not theirs to revoke here
        assert person.client.post(path).status_code == 404
    refused = cast.owner.client.post(path)  # an Account Admin may not revoke outside shares, nor what came of them
    assert refused.status_code == 403 and "outside the organization" in refused.json()["errorMessage"]
    assert cast.teammate.client.post(f"/v6/live-shares/{share.id}/snapshots/987654/delete.json").status_code == 404

    assert cast.teammate.client.post(path).status_code == 204
    assert answers_of(public["linkId"]) == {"page": 404, "json": 404, "csv": 404, "comment": 404}
    # Only that snapshot: the share and the other snapshot stay.
    [sent] = cast.owner.client.get("/v6/live-shares.json").json()["liveShares"]
    assert sent["status"] == "accepted" and [s["displayName"] for s in sent["snapshots"]] == ["kept inside"]
    assert cast.other_org.client.get(f"/v6/snapshots/{saved['linkId']}.json").status_code == 200
    assert cast.other_org.client.get(f"/v6/tests/{test.id}.json").status_code == 200


def test_a_recipients_snapshot_is_the_recipients_not_listed_among_the_sharers_tests(cast, outside):
    test, _ = outside
    link = derive(cast, test, is_public=0)
    owners = {t["testId"] for t in cast.owner.client.get("/v6/tests.json").json()["test"]}
    theirs = {t["testId"]: t for t in cast.other_org.client.get("/v6/tests.json").json()["test"]}
    assert link["testId"] not in owners and theirs[link["testId"]]["savedEvent"] == 1
    assert cast.owner.client.get(f"/v6/net/metrics/{link['testId']}.json").status_code == 404
    rows = cast.other_org.client.get(f"/v6/net/metrics/{link['testId']}.json?window=12h").json()["net"]["metrics"]
    assert rows and {r["roundId"] for r in rows} <= set(range(BASE, BASE + 3601))


def test_the_test_settings_list_recipients_snapshots_and_revoke_one(cast, outside):
    from tests.web_support import signed_in

    test, _ = outside
    public = derive(cast, test, name="<b>for our provider</b>")
    kept = derive(cast, test, is_public=0, name="kept inside")
    Client(REMOTE_ADDR=ANYONE).get(f"/s/{public['linkId']}/")
    [public_id, kept_id] = [Snapshot.objects.get(link_id=link["linkId"]).id for link in (public, kept)]
    settings_page = f"/tests/{test.id}/edit/"
    revoke = f"/tests/{test.id}/sharing/snapshots/{public_id}/delete/"

    html = signed_in(cast.teammate).get(settings_page).content.decode()
    assert 'id="share-derived"' in html
    assert "&lt;b&gt;for our provider&lt;/b&gt;" in html and "<b>for our provider" not in html  # escaped
    assert "kept inside" in html and "Globex" in html and "share link" in html and "saved event" in html
    assert "1 visit" in html and cast.other_org.user.email in html
    assert public["linkId"] not in html and kept["linkId"] not in html
    assert f'action="{revoke}"' in html
    # An Account Admin may not revoke what came of an outside share: listed, without the button; the POST is 403.
    owner = signed_in(cast.owner)
    html = owner.get(settings_page).content.decode()
    assert "kept inside" in html and f'action="{revoke}"' not in html
    assert owner.post(revoke).status_code == 403
    # Other tenants, and a snapshot of another test, are not found.
    assert signed_in(cast.other_group).post(revoke).status_code == 404
    assert signed_in(cast.other_org).post(revoke).status_code == 404
    other_test = make_test(cast.owner, name="another")
    assert (
        signed_in(cast.teammate).post(f"/tests/{other_test.id}/sharing/snapshots/{public_id}/delete/").status_code
        == 404
    )

    teammate = signed_in(cast.teammate)
    assert "Revoke “&lt;b&gt;for our provider&lt;/b&gt;”?" in teammate.get(revoke).content.decode()  # confirmation
    answer = teammate.post(revoke)
    assert answer.status_code == 302 and answer["Location"].endswith(f"{settings_page}#live-sharing")
    assert answers_of(public["linkId"])["page"] == 404
    assert list(Snapshot.objects.values_list("id", flat=True)) == [kept_id]
    # With htmx the list alone comes back, without the revoked one.
    swapped = teammate.post(f"/tests/{test.id}/sharing/snapshots/{kept_id}/delete/", HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and swapped.content.decode().lstrip().startswith('<div id="share-derived"')
    assert "Recipients have made no snapshots of this test." in swapped.content.decode()
    assert not Snapshot.objects.exists()


def test_the_migration_ties_earlier_snapshots_to_their_share_and_ends_those_whose_share_ended(cast, outside):
    """Snapshots made through a share before this release: tied to the share still granting them, and moved to the
    recipient's group; one whose share was already revoked — the reported leak — is ended."""
    import importlib

    from django.apps import apps

    from spyglass.liveshares.models import LiveShare

    migration = importlib.import_module("spyglass.sharing.migrations.0005_snapshot_live_share")
    test, share = outside
    kept, leaked = derive(cast, test, name="kept"), derive(cast, test, name="leaked")
    # As such snapshots were stored before: untied, their own test row in the sharer's group.
    Snapshot.objects.update(live_share=None)
    Test.objects.filter(saved_event=True).update(account_group=test.account_group)
    other_org_group = cast.other_org.user.default_account_group
    # The share of the leaked one was revoked back then: here, another organization's share that no longer exists.
    leaked_snapshot = Snapshot.objects.get(link_id=leaked["linkId"])
    elsewhere = make_test(cast.owner, name="revoked long ago")
    Snapshot.objects.filter(id=leaked_snapshot.id).update(source_test=elsewhere)
    RetentionPin.objects.filter(copy_to_id=leaked_snapshot.test_id).update(test=elsewhere)

    migration.tie_existing_snapshots(apps, None)

    [remaining] = Snapshot.objects.select_related("test")
    assert remaining.link_id == kept["linkId"] and remaining.live_share_id == share.id
    assert remaining.test.account_group_id == other_org_group.id
    assert not Test.objects.filter(id=leaked_snapshot.test_id).exists()
    assert not RetentionPin.objects.filter(test=elsewhere).exists()
    assert answers_of(leaked["linkId"])["json"] == 404 and answers_of(kept["linkId"])["json"] == 200
    assert LiveShare.objects.filter(id=share.id, status="accepted").exists()
