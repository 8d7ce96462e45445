"""Tests, agents, agent tokens and the results tables (one per kind of measurement)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from spyglass.accounts.models import AccountGroup, Organization
from spyglass.lib.rounds import ALLOWED_INTERVALS


class Agent(models.Model):
    ENTERPRISE, CLOUD, ENDPOINT = "Enterprise", "Cloud", "Endpoint"
    TYPES = [(ENTERPRISE, ENTERPRISE), (CLOUD, CLOUD), (ENDPOINT, ENDPOINT)]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=200, blank=True, default="")
    country_id = models.CharField(max_length=2, blank=True, default="")
    ip_addresses = models.JSONField(default=list, blank=True)
    public_ip_addresses = models.JSONField(default=list, blank=True)
    agent_type = models.CharField(max_length=20, choices=TYPES, default=ENTERPRISE)
    hostname = models.CharField(max_length=255, blank=True, default="")
    version = models.CharField(max_length=50, blank=True, default="")
    enabled = models.BooleanField(default=True)
    created_date = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(null=True, blank=True)
    # Results dropped by the agent's bounded spool, and results waiting in it, as reported in its last heartbeat.
    spool_dropped = models.BigIntegerField(default=0)
    spool_depth = models.BigIntegerField(default=0)
    # Why the agent cannot trace paths (no raw sockets), from its last heartbeat; "" when it can.
    path_trace_problem = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="uniq_agent_name")]

    def __str__(self):
        return self.name


class AgentToken(models.Model):
    """Lets a remote agent process register as agents of one organization; only the digest is stored."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="agent_tokens")
    name = models.CharField(max_length=200)
    digest = models.CharField(max_length=64, unique=True)
    created_date = models.DateTimeField(default=timezone.now)
    revoked = models.BooleanField(default=False)


class Test(models.Model):
    __test__ = False  # not a pytest test class

    AGENT_TO_SERVER, HTTP_SERVER, DNS_SERVER = "agent-to-server", "http-server", "dns-server"
    TYPES = [(AGENT_TO_SERVER, AGENT_TO_SERVER), (HTTP_SERVER, HTTP_SERVER), (DNS_SERVER, DNS_SERVER)]

    account_group = models.ForeignKey(AccountGroup, on_delete=models.CASCADE, related_name="tests")
    type = models.CharField(max_length=20, choices=TYPES)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    interval = models.PositiveIntegerField(choices=[(i, i) for i in ALLOWED_INTERVALS])
    enabled = models.BooleanField(default=True)
    alerts_enabled = models.BooleanField(default=True)
    agents = models.ManyToManyField(Agent, blank=True, related_name="tests")

    # agent-to-server
    server = models.CharField(max_length=300, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True)
    protocol = models.CharField(max_length=4, blank=True, default="TCP")
    probe_count = models.PositiveIntegerField(default=20)
    probe_spacing_ms = models.PositiveIntegerField(default=50)
    # http-server
    url = models.CharField(max_length=2000, blank=True, default="")
    http_time_limit = models.PositiveIntegerField(default=5)
    http_target_time = models.PositiveIntegerField(default=1000)
    follow_redirects = models.BooleanField(default=True)
    max_redirects = models.PositiveIntegerField(default=10)
    verify_certificate = models.BooleanField(default=True)
    desired_status_code = models.CharField(max_length=10, blank=True, default="")
    content_regex = models.CharField(max_length=500, blank=True, default="")
    headers = models.JSONField(default=list, blank=True)
    # dns-server
    domain = models.CharField(max_length=300, blank=True, default="")
    dns_servers = models.JSONField(default=list, blank=True)
    dns_transport_protocol = models.CharField(max_length=3, blank=True, default="UDP")
    recursive_queries = models.BooleanField(default=True)
    # http-server and dns-server also take network end-to-end measurements toward their target
    network_measurements = models.BooleanField(default=True)
    # Path traces per round toward the target (agent-to-server; http/dns with network measurements); 0 = none.
    num_path_traces = models.PositiveSmallIntegerField(default=3)

    # A snapshot is a test of its own (savedEvent), frozen from a source test; see spyglass.sharing.
    saved_event = models.BooleanField(default=False)
    source_test = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Set when a test that snapshots still show is deleted: hidden everywhere, its pinned rows kept (retention.py).
    deleted_date = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_date = models.DateTimeField(default=timezone.now)
    modified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    modified_date = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account_group", "type"])]

    def __str__(self):
        return self.name

    @property
    def takes_network_measurements(self) -> bool:
        """Whether its agents measure the network toward the target (loss, latency, path traces; the Path
        Visualization View): an agent-to-server test always, an HTTP or DNS server test when networkMeasurements
        is on. The one place of this rule on the server; the agent reads it from its assignment."""
        return self.type == self.AGENT_TO_SERVER or bool(self.network_measurements)

    @property
    def target(self) -> str:
        if self.type == self.AGENT_TO_SERVER:
            return f"{self.server}:{self.port}" if self.port else self.server
        if self.type == self.HTTP_SERVER:
            return self.url
        return self.domain


class ResultBase(models.Model):
    """Common columns: one row per (test, agent, roundId); writing the same key again replaces the row."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, db_index=False)
    round_id = models.BigIntegerField()
    date = models.DateTimeField()
    server_ip = models.CharField(max_length=64, blank=True, default="")
    # When this version of the row was written: a snapshot shows only rows written before it was frozen.
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class NetResult(ResultBase):
    server = models.CharField(max_length=300, blank=True, default="")
    loss = models.FloatField(null=True)
    min_latency = models.FloatField(null=True)
    avg_latency = models.FloatField(null=True)
    max_latency = models.FloatField(null=True)
    jitter = models.FloatField(null=True)
    error_type = models.CharField(max_length=20, blank=True, default="None")
    error_details = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "round_id", "agent"], name="uniq_net_result")]


class HttpResult(ResultBase):
    response_code = models.IntegerField(null=True)
    num_redirects = models.IntegerField(default=0)
    redirect_time = models.FloatField(null=True)
    dns_time = models.FloatField(null=True)
    connect_time = models.FloatField(null=True)
    ssl_time = models.FloatField(null=True)
    wait_time = models.FloatField(null=True)
    receive_time = models.FloatField(null=True)
    response_time = models.FloatField(null=True)
    total_time = models.FloatField(null=True)
    wire_size = models.BigIntegerField(null=True)
    throughput = models.FloatField(null=True)
    error_type = models.CharField(max_length=20, default="None")
    error_details = models.TextField(blank=True, default="")
    ssl_version = models.CharField(max_length=20, blank=True, default="")
    ssl_cipher = models.CharField(max_length=100, blank=True, default="")
    ssl_certs = models.JSONField(default=list, blank=True)
    request_headers = models.TextField(blank=True, default="")
    response_headers = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "round_id", "agent"], name="uniq_http_result")]


class DnsResult(ResultBase):
    """One row per (test, agent, roundId, DNS server): a DNS server test queries each listed server."""

    server = models.CharField(max_length=300)
    server_id = models.IntegerField(default=0)
    resolution_time = models.FloatField(null=True)
    mappings = models.TextField(blank=True, default="")
    error_type = models.CharField(max_length=20, default="None")
    error_details = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "round_id", "agent", "server"], name="uniq_dns_result")]


class Path(models.Model):
    """One distinct path of a test: where it starts and ends and its hop addresses, stored once however many rounds
    take it (spyglass.monitoring.path_store). PathRound rows name it by id. The hops' reverse-DNS names are the first
    ones an agent reported for them; a name first reported later fills an empty one (a database trigger then bumps
    the content version of the test's snapshots, sharing migration 0007)."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    digest = models.CharField(max_length=32)  # of server, serverIp, sourceIp and the hop addresses (path_store.py)
    server = models.CharField(max_length=300, blank=True, default="")
    server_ip = models.CharField(max_length=64, blank=True, default="")
    source_ip = models.CharField(max_length=64, blank=True, default="")
    hops = models.JSONField(default=list)  # [[address or "" for an unknown hop, rdns], …] from hop 1
    # The rounds it was taken in, first and last (the last kept to within a day: path_store.path_ids), so that
    # retention drops a path no stored round can name any more (retention.py).
    first_round = models.BigIntegerField(default=0)
    last_round = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "digest"], name="uniq_path")]


class PathRound(models.Model):
    """The path traces of one agent in one round of a test, packed (spyglass.monitoring.path_format): per trace
    only its index, its path's id, and per hop the response time and the probes lost. One row per
    (test, round, agent) with no surrogate key, so a round of 3 traces of an unchanging path costs what its numbers
    cost (bench row 11). Written and read like the other results: results.upsert (kind "path") replaces the row,
    copies it first for a snapshot frozen before, and scope.results reads it."""

    pk = models.CompositePrimaryKey("test", "round_id", "agent")
    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    round_id = models.BigIntegerField()
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, db_index=False)
    recorded_at = models.DateTimeField(default=timezone.now)
    traces = models.BinaryField()


class AsnTable(models.Model):
    """The prefix-to-AS table the operator loaded (`spyglass asn import`): one row, its version bumped by each import
    (a database trigger then bumps every snapshot's content version: hop prefixes and networks are read from it)."""

    version = models.BigIntegerField(default=0)
    loaded_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=500, blank=True, default="")
    prefixes = models.BigIntegerField(default=0)
    # The prefix lengths the table holds, longest first, per IP version ({"4": [24, 23, …], "6": […]}): a lookup tries
    # only these, without reading the table to find them.
    lengths = models.JSONField(default=dict)


class AsnPrefix(models.Model):
    """One announced prefix and its origin AS, as a RouteViews prefix2as line gives it."""

    cidr = models.CharField(max_length=50, unique=True)  # normalized, e.g. "198.18.0.0/15"
    length = models.PositiveSmallIntegerField()
    origin = models.CharField(max_length=100)  # the file's origin field: "64500", "64500_64501" or "64500,64501"


class AsnName(models.Model):
    asn = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=300)


class RetentionPin(models.Model):
    """A window of a test's results that retention must keep (a snapshot pins the window it shows).

    A freezing pin (frozen_at set) also keeps the window as it was at that instant: before results.upsert replaces
    a row written before frozen_at, it copies the old row to `copy_to` (the snapshot's own test), set-based."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="retention_pins")
    start_round = models.BigIntegerField()
    end_round = models.BigIntegerField()
    reason = models.CharField(max_length=100, blank=True, default="")
    frozen_at = models.DateTimeField(null=True, blank=True)
    copy_to = models.ForeignKey(Test, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    has_copies = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["test", "start_round"])]


class ResultHour(models.Model):
    """How many times a test's results in one hour of roundIds were written: every write bumps the hours it touches
    (results.upsert_values, retention), so an ExportChunk built from an older version is known to be stale."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    hour = models.BigIntegerField()  # the hour's first roundId (epoch seconds, a multiple of 3600)
    version = models.BigIntegerField(default=1)
    # The latest write's recorded_at (retention's deletions aside, which never touch a pinned window): a snapshot
    # frozen at or after it shows the hour as its rollup does (spyglass.monitoring.rollups). Null = not known.
    written_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "hour"], name="uniq_result_hour")]


class RollupHour(models.Model):
    """The per-round aggregates of one hour of a test's rows of one kind (spyglass.monitoring.rollups): for each
    round the agents reporting, the rows with an error and each series' sum and count, as the timeline's ONE rule
    computes them from rows. Valid while `version` equals the hour's ResultHour version and `layout` the current
    series; anything else is computed again from the rows and stored."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    kind = models.CharField(max_length=4)
    hour = models.BigIntegerField()
    version = models.BigIntegerField()
    layout = models.CharField(max_length=64)
    data = models.TextField()  # JSON [[roundId, agents, errors, rows, sum, count, …], …]: timeline.per_round's
    # The agents that reported in the hour, JSON [[agentId, first roundId, last roundId], …]: a window that cuts the
    # hour on one side still knows exactly which of them reported inside it (a snapshot's summary counts them).
    agents = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "kind", "hour"], name="uniq_rollup_hour")]


class ExportChunk(models.Model):
    """One hour of a test's rows of one kind, already written as the data API's JSON (spyglass.monitoring.chunks).

    A cache: valid while `version` equals the hour's ResultHour version, `layout` the current row layout, and
    `agents` the agents' current names and countries; anything else rebuilds it on the next export."""

    test = models.ForeignKey(Test, on_delete=models.CASCADE, db_index=False)
    kind = models.CharField(max_length=4)
    hour = models.BigIntegerField()
    version = models.BigIntegerField()
    layout = models.CharField(max_length=64)
    agents = models.TextField()  # JSON [[agentId, agentName, countryId], …] as written into the rows
    contents = models.TextField()  # JSON {"rounds": […], "segments": […]}: where each round is (chunk_format.py)
    rows = models.BigIntegerField()
    build = models.BigIntegerField()  # random per build: a page's index and the bytes it reads come from one build
    built_at = models.DateTimeField(default=timezone.now)
    # Last: SQLite reads a row's columns in order, so a column after this one would cost reading the whole body.
    body = models.BinaryField()  # the rows' JSON, compressed by segment (chunk_format.py)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["test", "kind", "hour"], name="uniq_export_chunk")]
