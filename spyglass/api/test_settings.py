"""Settings of a test that ThousandEyes clients read but spyglass does not vary: what spyglass's agents do, stated
once per test type and written by each API version in its own spelling (v6: upper-case enums and 0/1 flags as in
the v6 example bodies; v7: lower-case enums and booleans, as the v7 models' enums)."""

import functools

# name → value, in v7 spelling. Flags are booleans; enums lower case.
FIXED = {
    "agent-to-server": {
        "probeMode": "auto",
        "pathTraceMode": "classic",
        "numPathTraces": 3,
        "ipv6Policy": "use-agent-policy",
        "mtuMeasurements": False,
        "bandwidthMeasurements": False,
        "bgpMeasurements": False,
        "usePublicBgp": False,
        "continuousMode": False,
    },
    "http-server": {
        "authType": "none",
        "httpVersion": 2,
        "ipv6Policy": "use-agent-policy",
        "probeMode": "auto",
        "protocol": "tcp",
        "pathTraceMode": "classic",
        "numPathTraces": 3,
        "sslVersion": "Auto",
        "sslVersionId": "0",
        "useNtlm": False,
        "mtuMeasurements": False,
        "bandwidthMeasurements": False,
        "bgpMeasurements": False,
        "usePublicBgp": False,
    },
    "dns-server": {
        "dnsQueryClass": "in",
        "ipv6Policy": "use-agent-policy",
        "probeMode": "auto",
        "protocol": "udp",
        "pathTraceMode": "classic",
        "numPathTraces": 3,
        "mtuMeasurements": False,
        "bandwidthMeasurements": False,
        "bgpMeasurements": False,
        "usePublicBgp": False,
    },
}

# v6 keeps these as they are written in its example bodies (pathTraceMode "classic", sslVersion "Auto").
_V6_AS_IS = {"pathTraceMode", "sslVersion", "numPathTraces", "httpVersion"}


def v7_fixed(test_type: str) -> dict:
    return dict(FIXED[test_type])


def v6_fixed(test_type: str) -> dict:
    return dict(_v6_spelled(test_type))


@functools.cache
def _v6_spelled(test_type: str) -> dict:
    # Spelled once per type and process: a list of tests asks once per test.
    out = {}
    for name, value in FIXED[test_type].items():
        if isinstance(value, bool):
            out[name] = int(value)
        elif name == "sslVersionId":
            out[name] = int(value)
        elif isinstance(value, str) and name not in _V6_AS_IS:
            out[name] = value.upper().replace("-", "_")
        else:
            out[name] = value
    return out
