"""What a result row may carry, per kind: v6 field names, their columns and the kind of value each takes."""

from spyglass.monitoring import results

MAX_ROWS = 2000
ERROR_TYPES = {"None", "DNS", "Connect", "SSL", "Send", "Receive", "HTTP", "Timeout", "Error"}

# v6 field → (column, kind of value). Kinds: ms (non-negative number or null), pct (0..100 or null), int, text,
# multiline text, certs (list of objects).
_COMMON = {"serverIp": ("server_ip", "text")}
FIELDS = {
    "net": {
        **_COMMON,
        "server": ("server", "text"),
        "loss": ("loss", "pct"),
        "minLatency": ("min_latency", "ms"),
        "avgLatency": ("avg_latency", "ms"),
        "maxLatency": ("max_latency", "ms"),
        "jitter": ("jitter", "ms"),
        "errorType": ("error_type", "error"),
        "errorDetails": ("error_details", "multiline"),
    },
    "http": {
        **_COMMON,
        "responseCode": ("response_code", "int32"),
        "numRedirects": ("num_redirects", "int32"),
        "redirectTime": ("redirect_time", "ms"),
        "dnsTime": ("dns_time", "ms"),
        "connectTime": ("connect_time", "ms"),
        "sslTime": ("ssl_time", "ms"),
        "waitTime": ("wait_time", "ms"),
        "receiveTime": ("receive_time", "ms"),
        "responseTime": ("response_time", "ms"),
        "totalTime": ("total_time", "ms"),
        "wireSize": ("wire_size", "int"),
        "throughput": ("throughput", "ms"),
        "errorType": ("error_type", "error"),
        "errorDetails": ("error_details", "multiline"),
        "sslVersion": ("ssl_version", "text"),
        "sslCipher": ("ssl_cipher", "text"),
        "sslCerts": ("ssl_certs", "certs"),
        "requestHeaders": ("request_headers", "multiline"),
        "responseHeaders": ("response_headers", "multiline"),
    },
    "dns": {
        **_COMMON,
        "server": ("server", "text"),
        "serverId": ("server_id", "int32"),
        "resolutionTime": ("resolution_time", "ms"),
        "mappings": ("mappings", "multiline"),
        "errorType": ("error_type", "error"),
        "errorDetails": ("error_details", "multiline"),
    },
}


def _defaults(kind: str) -> dict:
    """Every column of the kind with its model default: a row sent again replaces the whole earlier row."""
    model = results.KINDS[kind]
    fields = {f.column: f for f in model._meta.concrete_fields}
    return {column: fields[column].get_default() for column, _ in FIELDS[kind].values()}


DEFAULTS = {kind: _defaults(kind) for kind in FIELDS}
KIND_FITS = {"net": {"agent-to-server", "http-server", "dns-server"}, "http": {"http-server"}, "dns": {"dns-server"}}
TEXT_LIMIT = 20000
