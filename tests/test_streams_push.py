"""Streams push every stored round to real OTLP receivers on loopback (tests/otlp_receivers.py): each data point that
arrives is decoded and compared with the round as the v6 API shows it — names, units, values, attributes and
timestamps — over OTLP/HTTP and OTLP/gRPC, in both data models. A receiver that refuses for a while gets every round
once it recovers, none twice; one that hangs times out and the backlog shows in the stream's status; an address
outside the allowed networks is refused when the export is made; 3 days failing e-mails the creator, 7 disable."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from spyglass.accounts.roles import access_for
from spyglass.lib.addresses import parse_networks
from spyglass.mail.models import OutboxMessage
from spyglass.monitoring import results
from spyglass.monitoring.models import Agent, DnsResult, HttpResult, NetResult
from spyglass.monitoring.seed import seed
from spyglass.streams import push, services
from spyglass.streams.models import Stream, StreamCursor
from tests.conftest import make_test
from tests.otlp_receivers import HANG, GrpcReceiver, HttpReceiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def loopback(settings, monkeypatch):
    monkeypatch.setattr(push, "IDLE_POLL", timedelta(0))  # a stream with nothing to send is looked at every pass
    settings.STREAM_ALLOW_HTTP = True
    settings.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.0/8")
    settings.STREAM_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def receivers():
    started = []

    def start(kind, answer=lambda n: 200, **options):
        receiver = (HttpReceiver if kind == "http" else GrpcReceiver)(answer=answer).start(**options)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def _seeded(person, test_type, name, hours=0.5, agents=2, random_seed=3):
    test = make_test(person, test_type, name=name)
    seed(test, agents=agents, hours=hours, random_seed=random_seed, now=time.time() - 600)
    _recorded_when_measured(test)
    return test


def _recorded_when_measured(test):
    """Seeded rows are written now; an agent uploads a round when it ends. Rows recorded right as a stream looks are
    looked at again (push.LATE_MARGIN): the rows of these past rounds were recorded long before."""
    for model in (NetResult, HttpResult, DnsResult):
        model.objects.filter(test=test).update(recorded_at=F("date"))


def _stream(person, url, endpoint_type, tests, version="v2", **extra):
    body = {
        "endpointType": endpoint_type,
        "streamEndpointUrl": url,
        "dataModelVersion": version,
        "customHeaders": {"Authorization": "Bearer sekrit-token"},
        "testMatch": [{"id": str(t.id), "domain": "cea"} for t in tests],
        **extra,
    }
    return services.create_stream(access_for(person.user, None), body)


def _drain(now=None, passes=50) -> dict:
    """Worker passes until one sends nothing (bounded)."""
    total = {"batches": 0, "rounds": 0, "failed": 0}
    for _ in range(passes):
        counts = push.push_due(now)
        for key in total:
            total[key] += counts[key]
        if not counts["batches"] or counts["failed"]:
            return total
    raise AssertionError("the backlog never drained")


def _v6_rows(person, path, body) -> list[dict]:
    response = person.client.get(f"/v6/{path}.json?window=2h")
    assert response.status_code == 200, response.content[:300]
    return response.json()[body[0]][body[1]]


def _failed(row) -> bool:
    return row.get("errorType", "None") not in ("None", "")


def _expected_v2(person, test) -> dict:
    """(metric, agent, round, dns server) → (unit, value, point attributes), from the v6 API's rows."""
    out = {}
    net_errors = dict(
        ((r.agent_id, r.round_id), r.error_type) for r in NetResult.objects.filter(test=test)
    )  # the v6 net/metrics body shows no error fields
    for row in _v6_rows(person, f"net/metrics/{test.id}", ("net", "metrics")):
        key = (row["agentId"], row["roundId"], None)
        error = net_errors[key[:2]]
        attributes = {"error.type": error} if error != "None" else {}
        for metric, unit, value in (
            ("network.latency", "s", None if row["maxLatency"] is None else row["maxLatency"] / 1000),
            ("network.loss", "%", row["loss"]),
            ("network.jitter", "ms", row["jitter"]),
        ):
            if value is not None:
                out[(metric, *key)] = (unit, value, attributes)
    if test.type == "http-server":
        for row in _v6_rows(person, f"web/http-server/{test.id}", ("web", "httpServer")):
            key = (row["agentId"], row["roundId"], None)
            attributes = {"error.type": row["errorType"]} if _failed(row) else {}
            if row["responseCode"]:
                attributes["http.response.status_code"] = row["responseCode"]
            out[("http.server.request.availability", *key)] = ("%", 0.0 if _failed(row) else 100.0, attributes)
            if row["responseTime"] is not None:
                out[("http.client.request.duration", *key)] = ("s", row["responseTime"] / 1000, attributes)
            if row["throughput"] is not None:
                out[("http.server.throughput", *key)] = ("By/s", row["throughput"], attributes)
    if test.type == "dns-server":
        for row in _v6_rows(person, f"dns/server/{test.id}", ("dns", "server")):
            key = (row["agentId"], row["roundId"], row["server"])
            attributes = {"server.address": row["server"], **({"error.type": row["errorType"]} if _failed(row) else {})}
            out[("dns.lookup.availability", *key)] = ("%", 0.0 if _failed(row) else 100.0, attributes)
            if row["resolutionTime"] is not None:
                out[("dns.lookup.duration", *key)] = ("s", row["resolutionTime"] / 1000, attributes)
    return out


def _arrived_v2(receiver, test) -> dict:
    out = {}
    for resource, name, unit, nanos, value, attributes in receiver.points():
        if resource["thousandeyes.test.id"] != str(test.id):
            continue
        assert nanos % 1_000_000_000 == 0
        key = (
            name,
            int(resource["thousandeyes.source.agent.id"]),
            nanos // 1_000_000_000,
            attributes.get("server.address") if test.type == "dns-server" else None,
        )
        assert key not in out, f"sent twice: {key}"
        out[key] = (unit, pytest.approx(value, rel=1e-12, abs=1e-12), attributes)
    return out


def test_every_round_arrives_over_http_as_the_v6_api_shows_it(cast, loopback, receivers):
    web = _seeded(cast.owner, "http-server", "shop")
    HttpResult.objects.filter(test=web, id__in=HttpResult.objects.filter(test=web).values("id")[:3]).update(
        error_type="Connect", response_code=0
    )
    edge = _seeded(cast.owner, "agent-to-server", "edge", random_seed=4)
    names = _seeded(cast.owner, "dns-server", "names", random_seed=5)
    receiver = receivers("http")
    stream = _stream(cast.owner, receiver.url, "http", [web, edge, names])
    drained = _drain()
    assert drained["failed"] == 0 and drained["batches"] >= 3
    for test in (web, edge, names):
        expected, arrived = _expected_v2(cast.owner, test), _arrived_v2(receiver, test)
        assert len(expected) > 60
        assert arrived.keys() == expected.keys()
        for key, (unit, value, attributes) in expected.items():
            assert arrived[key] == (unit, value, attributes), key
    # the resource: who measured what, and from where
    resources = {(r["thousandeyes.test.id"], r["thousandeyes.source.agent.id"]): r for r, *_ in receiver.points()}
    agents = {
        row["agentId"]: row["agentName"] for row in _v6_rows(cast.owner, f"net/metrics/{edge.id}", ("net", "metrics"))
    }
    for agent_id, agent_name in agents.items():
        resource = resources[(str(edge.id), str(agent_id))]
        assert resource["thousandeyes.source.agent.name"] == agent_name
        assert resource["thousandeyes.test.name"] == "edge" and resource["thousandeyes.test.type"] == "agent-to-server"
        assert (resource["server.address"], resource["server.port"], resource["network.transport"]) == (
            "example.com",
            443,
            "tcp",
        )
        assert resource["thousandeyes.stream.id"] == str(stream.id) and resource["thousandeyes.data.version"] == "v2"
        assert (
            resource["thousandeyes.account.id"] == str(cast.owner.aid) and resource["thousandeyes.test.domain"] == "cea"
        )
    web_resource = next(r for (t, _), r in resources.items() if t == str(web.id))
    assert (web_resource["server.address"], web_resource["url.scheme"], web_resource["http.route"]) == (
        "example.com",
        "https",
        "/",
    )
    assert next(r for (t, _), r in resources.items() if t == str(names.id))["dns.question.name"] == "example.com"
    # in round order per test, with the stream's headers
    for test in (web, edge, names):
        firsts = [
            min(
                p.time_unix_nano
                for rm in got.request.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
                for p in m.gauge.data_points
            )
            for got in receiver.accepted
            if any(
                kv.value.string_value == str(test.id)
                for rm in got.request.resource_metrics
                for kv in rm.resource.attributes
            )
        ]
        assert firsts == sorted(firsts)
    assert {r.headers["Authorization"] for r in receiver.accepted} == {"Bearer sekrit-token"}
    got = cast.owner.client.get(f"/v7/streams/{stream.id}").json()["streamStatus"]
    assert got["status"] == "connected" and got["backlog"] == 0 and got["lastSuccess"] > 0
    # a later pass sends nothing again; a new round is sent alone
    assert _drain()["batches"] == 0
    seed(edge, agents=2, hours=60 / 3600, random_seed=9, now=time.time() - 200)
    _recorded_when_measured(edge)
    before = len(receiver.accepted)
    assert _drain()["rounds"] == 1 and len(receiver.accepted) == before + 1


def test_every_round_arrives_over_grpc_in_the_v1_model(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge", random_seed=4)
    receiver = receivers("grpc")
    stream = _stream(cast.owner, receiver.url, "grpc", [edge], version="v1")
    assert _drain()["failed"] == 0
    arrived = {}
    for resource, name, unit, nanos, value, attributes in receiver.points():
        assert resource == {"thousandeyes.stream.id": str(stream.id)}
        assert attributes["test.id"] == str(edge.id) and attributes["round.id"] * 10**9 == nanos
        key = (name, attributes["agent.id"], attributes["round.id"])
        assert key not in arrived
        arrived[key] = (unit, value, attributes["server.name"])
    expected = {}
    for row in _v6_rows(cast.owner, f"net/metrics/{edge.id}", ("net", "metrics")):
        for name, field in (
            ("net.metrics.latency", "maxLatency"),
            ("net.metrics.loss", "loss"),
            ("net.metrics.jitter", "jitter"),
        ):
            if row[field] is not None:
                unit = "%" if field == "loss" else "ms"
                expected[(name, row["agentId"], row["roundId"])] = (unit, pytest.approx(row[field]), row["server"])
    assert len(expected) > 100 and arrived == expected
    assert {r.headers["authorization"] for r in receiver.accepted} == {"Bearer sekrit-token"}
    assert Stream.objects.get(id=stream.id).status == "connected"


def test_a_receiver_down_for_a_while_gets_every_round_once(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge", hours=2)
    receiver = receivers("http", answer=lambda n: 503 if n <= 3 else 200)
    stream = _stream(cast.owner, receiver.url, "http", [edge], version="v1")
    now = timezone.now()
    for attempt in range(3):
        counts = push.push_due(now)
        assert counts["failed"] == 1 and counts["batches"] == 0
        got = cast.owner.client.get(f"/v7/streams/{stream.id}").json()["streamStatus"]
        assert got["status"] == "failing" and got["lastError"] == "HTTP 503 Service Unavailable"
        assert got["backlog"] == 120 and "internal details" not in str(got)
        assert push.push_due(now)["streams"] == 0  # backing off: not tried again at once
        now += push.backoff(attempt + 1)
    assert StreamCursor.objects.get(stream=stream).last_round == 0
    assert _drain(now)["rounds"] == 120
    rounds = [point[5]["round.id"] for point in receiver.points() if point[1] == "net.metrics.loss"]
    assert sorted(set(rounds)) == sorted(
        NetResult.objects.filter(test=edge).values_list("round_id", flat=True).distinct()
    )
    assert len(rounds) == NetResult.objects.filter(test=edge).count()  # one per agent and round: none twice
    got = cast.owner.client.get(f"/v7/streams/{stream.id}").json()["streamStatus"]
    assert got["status"] == "connected" and got["backlog"] == 0 and "lastError" not in got
    assert got["lastFailure"] < got["lastSuccess"]


def test_a_round_uploaded_late_is_sent_too(cast, loopback, receivers, monkeypatch):
    """An agent back from an outage uploads a round the stream already passed: it is sent (out of round order, as it
    arrived) once it has settled, and only once."""
    monkeypatch.setattr(push, "LATE_MARGIN", timedelta(seconds=0.3))
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http")
    _stream(cast.owner, receiver.url, "http", [edge], version="v1")
    assert _drain()["rounds"] == 30
    old_round = NetResult.objects.filter(test=edge).order_by("round_id").values_list("round_id", flat=True)[5]
    late = Agent.objects.create(organization=edge.account_group.organization, name="Osaka", country_id="JP")
    row = dict(NetResult.objects.filter(test=edge, round_id=old_round).values().first())
    row.update(agent_id=late.id, max_latency=123.5, loss=0.0, jitter=1.5)
    del row["id"], row["recorded_at"]
    before = len(receiver.points())
    results.upsert("net", [row])
    sent, deadline = 0, time.monotonic() + 3  # passes until it is out, then for a while longer: never again
    while time.monotonic() < deadline:
        sent += _drain()["rounds"]
    assert sent == 1
    got = receiver.points()[before:]
    assert sorted((p[1], p[4], p[5]["agent.id"], p[5]["round.id"]) for p in got) == [
        ("net.metrics.jitter", 1.5, late.id, old_round),
        ("net.metrics.latency", 123.5, late.id, old_round),
        ("net.metrics.loss", 0.0, late.id, old_round),
    ]


def _self_signed(directory, name="localhost"):
    """A certificate for `name`, its own issuer, and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "receiver.crt", directory / "receiver.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_tls_to_the_checked_address_with_the_hosts_certificate(cast, loopback, receivers, tmp_path, monkeypatch, kind):
    """A stream to https://localhost:…: sent to the address checked (127.0.0.1), verifying the certificate for the
    name, over OTLP/HTTP and OTLP/gRPC; the same receiver named by its address fails the certificate check."""
    tls = _self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", tls[0])  # trusted as the system's certificate authorities are
    loopback.STREAM_ALLOW_HTTP = False
    loopback.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.1/32,::1/128")
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers(kind, tls=tls)
    by_name = _stream(cast.owner, receiver.url.replace("127.0.0.1", "localhost"), kind, [edge])
    assert _drain()["rounds"] == 30 and receiver.accepted
    if kind == "http":
        assert receiver.accepted[0].headers["Host"] == f"localhost:{receiver.server.server_address[1]}"
    Stream.objects.filter(id=by_name.id).update(enabled=False)
    by_address = _stream(cast.owner, receiver.url, kind, [edge])
    assert push.push_due()["failed"] == 1
    by_address.refresh_from_db()
    assert by_address.last_error == (
        "TLS certificate not valid for 127.0.0.1" if kind == "http" else "gRPC UNAVAILABLE"
    )


def test_a_hanging_receiver_times_out_and_the_backlog_shows(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    for kind in ("http", "grpc"):
        receiver = receivers(kind, answer=lambda n: HANG)
        stream = _stream(cast.owner, receiver.url, kind, [edge])
        started = time.monotonic()
        assert push.push_due()["failed"] == 1
        assert time.monotonic() - started < 20
        got = cast.owner.client.get(f"/v7/streams/{stream.id}").json()["streamStatus"]
        assert got["status"] == "failing" and got["backlog"] == 30
        assert "timed out after 2 s" in got["lastError"]
        receiver.released.set()
        Stream.objects.filter(id=stream.id).update(enabled=False)


def test_an_address_outside_the_allowed_networks_is_refused_when_sending(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http", host="127.0.0.2")
    stream = _stream(cast.owner, receiver.url, "http", [edge])  # allowed when written: 127.0.0.0/8
    loopback.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.1/32")
    assert push.push_due()["failed"] == 1
    assert receiver.calls == 0
    stream.refresh_from_db()
    assert stream.status == "failing"
    assert (
        stream.last_error
        == "streamEndpointUrl 127.0.0.2 is a loopback address, outside SPYGLASS_STREAM_ALLOWED_NETWORKS"
    )


def test_redirects_are_not_followed_and_answers_are_not_shown(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http", answer=lambda n: 307 if n == 1 else 400)
    stream = _stream(cast.owner, receiver.url, "http", [edge])
    push.push_due()
    stream.refresh_from_db()
    assert stream.last_error == "HTTP 307 Temporary Redirect (redirects are not followed)" and receiver.calls == 1
    push.push_due(timezone.now() + timedelta(minutes=1))
    stream.refresh_from_db()
    assert stream.last_error == "HTTP 400 Bad Request" and receiver.calls == 2


def test_three_days_failing_mails_the_creator_and_seven_disable(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http", answer=lambda n: 503)
    stream = _stream(cast.owner, receiver.url, "http", [edge], name="to the NOC")
    start = timezone.now()
    push.push_due(start)
    push.push_due(start + timedelta(days=2))
    assert not OutboxMessage.objects.exists()
    push.push_due(start + timedelta(days=3, seconds=1))
    push.push_due(start + timedelta(days=4))
    (warning,) = OutboxMessage.objects.all()
    assert (
        warning.to == ["owner@acme.test"]
        and "failing for 3 days" in warning.subject
        and "to the NOC" in warning.subject
    )
    assert "HTTP 503 Service Unavailable" in warning.body_text
    push.push_due(start + timedelta(days=7, seconds=2))
    assert not cast.owner.client.get(f"/v7/streams/{stream.id}").json()["enabled"]
    assert OutboxMessage.objects.filter(subject__contains="was disabled").count() == 1
    assert push.push_due(start + timedelta(days=8))["streams"] == 0
    # enabled again: tried at once, from where it stopped
    receiver.answer = lambda n: 200
    response = cast.owner.client.put(f"/v7/streams/{stream.id}", {"enabled": True}, format="json")
    assert response.status_code == 200
    assert _drain()["rounds"] == 30
    assert cast.owner.client.get(f"/v7/streams/{stream.id}").json()["streamStatus"]["status"] == "connected"


def test_a_claimed_stream_is_left_to_its_worker(cast, loopback, receivers):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http")
    _stream(cast.owner, receiver.url, "http", [edge])
    claimed = push._claim(timezone.now(), set())
    assert claimed is not None
    assert push.push_due()["streams"] == 0 and receiver.calls == 0  # another worker holds it
    assert push.push_due(timezone.now() + push.LEASE + timedelta(seconds=1))["rounds"] == 30  # its lease ran out


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQLite test database is in memory with a shared cache, which refuses a second writer thread at once "
    "(table locks ignore busy_timeout); on SQLite the claim is serialized by IMMEDIATE transactions anyway",
)
def test_two_workers_at_once_send_each_batch_once(cast, loopback, receivers):
    """Two worker passes in parallel threads (each with its own database connection) over three streams with a
    slow receiver: each stream is taken by one of them, and no data point arrives twice."""
    import threading

    tests = [_seeded(cast.owner, "agent-to-server", f"edge {n}", random_seed=n) for n in range(3)]

    def slow(n):
        time.sleep(0.2)
        return 200

    receiver = receivers("http", answer=slow)
    for test in tests:
        _stream(cast.owner, receiver.url, "http", [test], version="v1")
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(10)
            push.push_due()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    _drain()
    seen = [(p[0]["thousandeyes.stream.id"], p[1], p[5]["agent.id"], p[5]["round.id"]) for p in receiver.points()]
    values = NetResult.objects.filter(test__in=tests).values_list("max_latency", "loss", "jitter")
    assert len(seen) == len(set(seen)) == sum(v is not None for row in values for v in row)


def test_send_a_test_round(cast, loopback, receivers):
    """What the web page's "Send a test round" calls: the latest round, sent now, the receiver's answer returned;
    the cursor and the status do not move."""
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http", answer=lambda n: 200 if n == 1 else 503)
    stream = _stream(cast.owner, receiver.url, "http", [edge])
    assert push.send_test_round(stream) == (True, "accepted")
    latest = NetResult.objects.filter(test=edge).order_by("-round_id").values_list("round_id", flat=True).first()
    assert {p[3] // 10**9 for p in receiver.points()} == {latest}
    assert len(receiver.points()) == 3 * NetResult.objects.filter(test=edge, round_id=latest).count()
    assert push.send_test_round(stream) == (False, "HTTP 503 Service Unavailable")
    stream.refresh_from_db()
    assert stream.status == "pending" and not StreamCursor.objects.filter(stream=stream).exists()
    loopback.STREAM_ALLOWED_NETWORKS = parse_networks("10.0.0.0/8")
    assert push.send_test_round(stream) == (
        False,
        "streamEndpointUrl 127.0.0.1 is a loopback address, outside SPYGLASS_STREAM_ALLOWED_NETWORKS",
    )


def test_a_stream_with_nothing_due_is_looked_at_again_after_a_while(cast, loopback, receivers, monkeypatch):
    monkeypatch.setattr(push, "IDLE_POLL", timedelta(seconds=10))
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http")
    _stream(cast.owner, receiver.url, "http", [edge])
    now = timezone.now()
    assert push.push_due(now)["rounds"] == 30  # it sent: due again at once
    assert push.push_due(now)["streams"] == 1  # nothing more: not looked at for 10 s
    assert push.push_due(now + timedelta(seconds=9))["streams"] == 0
    assert push.push_due(now + timedelta(seconds=11))["streams"] == 1


def test_the_workers_pass_pushes_streams(cast, loopback, receivers):
    from spyglass import worker

    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http")
    _stream(cast.owner, receiver.url, "http", [edge])
    assert worker.run_once()["streams"]["rounds"] == 30
    assert len({p[3] for p in receiver.points()}) == 30


def test_the_backlog_is_on_the_prometheus_endpoint(cast, loopback, receivers, client):
    """/metrics shows each enabled stream's backlog: every round before the worker pushes, none after."""
    from prometheus_client.parser import text_string_to_metric_families

    loopback.METRICS_TOKEN = "m" * 32
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    receiver = receivers("http")
    stream = _stream(cast.owner, receiver.url, "http", [edge])

    def scraped() -> dict:
        text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "m" * 32).content.decode()
        return {
            s.labels["stream_id"]: (s.value, s.labels["status"])
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "spyglass_stream_backlog_rounds"
        }

    assert scraped() == {str(stream.id): (30.0, "pending")}
    _drain()
    assert scraped() == {str(stream.id): (0.0, "connected")}
