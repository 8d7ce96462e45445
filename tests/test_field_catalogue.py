"""The field catalogue is the one place a result field is described: a field added to it is taken by the agent
API, stored, shown by the v6 data API (JSON and XML) and in a share's downloads, without another edit."""

import csv
import io
import json
import time

import pytest
from django.test import Client

from spyglass.lib.rounds import round_of
from spyglass.monitoring import catalogue
from spyglass.monitoring.catalogue import Field
from spyglass.monitoring.models import NetResult
from tests.conftest import make_snapshot, make_test
from tests.test_agent_api import agent_client, net_row
from tests.test_import import run_import, write

NOTE = "hop 3: 40 ms\nhop 4: 41 ms"


@pytest.fixture
def catalogue_with_a_new_field():
    """The network catalogue with a field it did not have: `hopNotes`, stored in the error_details column (which
    the catalogue's own errorDetails leaves for it), shown everywhere the data API shows a field."""
    net = catalogue.kind("net")
    fields = (*(f for f in net.fields if f.column != "error_details"), Field("hopNotes", "error_details", "multiline"))
    with catalogue.replaced("net", fields):
        yield


@pytest.fixture
def uploaded(cast, registered_agent):
    client, agent_id = registered_agent
    test = make_test(cast.owner, "agent-to-server", name="tcp", agents=[{"agentId": agent_id}])
    r = round_of(time.time(), 60) - 60
    return client, agent_id, test, r


@pytest.fixture
def registered_agent(cast):
    from spyglass.monitoring.agent_service import issue_agent_token

    token = issue_agent_token(cast.owner.user.default_account_group.organization_id, "lab agents")
    client = agent_client(token)
    response = client.post("/agent/v1/register", {"name": "lab-1"}, format="json")
    assert response.status_code == 200, response.content
    return client, response.json()["agentId"]


def test_a_field_added_to_the_catalogue_flows_from_upload_to_download(cast, catalogue_with_a_new_field, uploaded):
    client, agent_id, test, r = uploaded
    posted = client.post(
        f"/agent/v1/agents/{agent_id}/results", {"results": [net_row(test, r, hopNotes=NOTE)]}, format="json"
    )
    assert posted.status_code == 200, posted.content
    assert NetResult.objects.get().error_details == NOTE

    rows = cast.owner.client.get(f"/v6/net/metrics/{test.id}.json?window=1h").json()["net"]["metrics"]
    assert [row["hopNotes"] for row in rows] == [NOTE]
    xml = cast.owner.client.get(f"/v6/net/metrics/{test.id}.xml?window=1h").content.decode()
    assert "<hopNotes>hop 3: 40 ms\nhop 4: 41 ms</hopNotes>" in xml

    snapshot = make_snapshot(cast.owner, test, hours=1, anchor=r, position="ending")
    download = Client().get(f"/s/{snapshot.link_id}/download.json")
    body = json.loads(b"".join(download.streaming_content))
    assert [row["hopNotes"] for row in body["net"]["metrics"]] == [NOTE]
    table = Client().get(f"/s/{snapshot.link_id}/download.csv")
    (row,) = csv.DictReader(io.StringIO(b"".join(table.streaming_content).decode()))
    assert row["hopNotes"] == NOTE


def test_the_new_field_is_held_to_its_kind_of_value(cast, catalogue_with_a_new_field, uploaded):
    client, agent_id, test, r = uploaded
    posted = client.post(
        f"/agent/v1/agents/{agent_id}/results", {"results": [net_row(test, r, hopNotes=7)]}, format="json"
    )
    assert posted.status_code == 400
    assert "results[0].hopNotes must be a string" in posted.json()["errorMessage"]
    assert not NetResult.objects.exists()


def test_the_catalogue_is_as_it_was_after_the_block(cast, uploaded):
    with catalogue.replaced("net", catalogue.kind("net").fields[:2]):
        assert list(catalogue.shown("net")) == ["serverIp", "server"]
    assert "avgLatency" in catalogue.shown("net")
    client, agent_id, test, r = uploaded
    posted = client.post(
        f"/agent/v1/agents/{agent_id}/results", {"results": [net_row(test, r, hopNotes=NOTE)]}, format="json"
    )
    assert posted.status_code == 400 and "unknown field 'hopNotes'" in posted.json()["errorMessage"]


def test_spyglass_import_reads_the_new_field_and_names_it_when_wrong(
    cast, catalogue_with_a_new_field, tmp_path, capsys
):
    test = make_test(cast.owner, "agent-to-server", name="imported", interval=60)
    row = {"agentName": "Frankfurt", "roundId": 1795338000, "avgLatency": 11.0, "hopNotes": NOTE}
    good = write(tmp_path, "good.json", {"net": {"metrics": [row]}})
    assert run_import(test, good) == 0
    assert NetResult.objects.get().error_details == NOTE
    bad = write(tmp_path, "bad.json", {"net": {"metrics": [{**row, "hopNotes": ["a list"]}]}})
    assert run_import(test, bad) == 1
    assert "bad.json: row 1: hopNotes must be a string" in capsys.readouterr().err
    assert NetResult.objects.get().error_details == NOTE
