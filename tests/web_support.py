"""Helpers for the web app's tests: a signed-in browser-less client, and result rows written straight in."""

from datetime import UTC, datetime

from django.test import Client

from spyglass.monitoring import results


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def net_rows(test, agent_values: dict, round_id: int, error_agents=()) -> None:
    """One network row per agent for the round: {agent: (loss, avg_latency, jitter)}."""
    rows = []
    for agent, (loss, latency, jitter) in agent_values.items():
        failed = agent in error_agents
        rows.append(
            {
                "test_id": test.id,
                "agent_id": agent.id,
                "round_id": round_id,
                "date": datetime.fromtimestamp(round_id, tz=UTC),
                "server_ip": "203.0.113.10",
                "server": "example.com:443",
                "loss": loss,
                "min_latency": None if latency is None else latency - 1,
                "avg_latency": latency,
                "max_latency": None if latency is None else latency + 1,
                "jitter": jitter,
                "error_type": "Connect" if failed else "None",
                "error_details": "Connection refused" if failed else "",
            }
        )
    results.upsert("net", rows)


def http_row(test, agent, round_id: int, **values) -> dict:
    """A complete HTTP result row for the round; `values` override the defaults of a healthy response."""
    row = {
        "test_id": test.id,
        "agent_id": agent.id,
        "round_id": round_id,
        "date": datetime.fromtimestamp(round_id, tz=UTC),
        "server_ip": "203.0.113.10",
        "response_code": 200,
        "num_redirects": 0,
        "redirect_time": 0.0,
        "dns_time": 5.0,
        "connect_time": 20.0,
        "ssl_time": 40.0,
        "wait_time": 30.0,
        "receive_time": 5.0,
        "response_time": 95.0,
        "total_time": 100.0,
        "wire_size": 10000,
        "throughput": 2000000.0,
        "error_type": "None",
        "error_details": "",
        "ssl_version": "TLSv1.3",
        "ssl_cipher": "TLS_AES_128_GCM_SHA256",
        "ssl_certs": [],
        "request_headers": "",
        "response_headers": "",
    }
    row.update(values)
    return row
