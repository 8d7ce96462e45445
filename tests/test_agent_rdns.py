"""Reverse DNS of hop addresses: names from the resolver, a failure or a silent server leaves the name empty within
the time bound, and answers (misses too) are cached."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import dns.resolver
import pytest

from spyglass.agent.probes import rdns

NAMES = Path(__file__).parent / "netlab" / "names.py"


def resolver_at(port: int) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = port
    return resolver


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(rdns, "_cache", {})


def test_it_names_hops_and_leaves_unknown_addresses_empty(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a UDP port nobody holds
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(NAMES), "127.0.0.1", str(port), "192.0.2.1=edge-1.example.net"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        monkeypatch.setattr(rdns, "_resolver", resolver_at(port))
        names = rdns.reverse_names({"192.0.2.1", "192.0.2.2"})
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert names == {"192.0.2.1": "edge-1.example.net", "192.0.2.2": ""}
    # Cached, misses too: the responder is gone and the answers are the same.
    assert rdns.reverse_names({"192.0.2.1", "192.0.2.2"}) == names


def test_a_silent_resolver_costs_at_most_the_timeout_and_leaves_the_name_empty(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        monkeypatch.setattr(rdns, "_resolver", resolver_at(silent.getsockname()[1]))
        started = time.monotonic()
        names = rdns.reverse_names({f"192.0.2.{i}" for i in range(1, 21)}, timeout_s=0.3)
        took = time.monotonic() - started
        silent.settimeout(0.5)
        assert silent.recv(512)  # it was asked
    assert names == {f"192.0.2.{i}": "" for i in range(1, 21)}
    assert took < 5.0  # 20 addresses looked up together, each bounded: not 20 timeouts one after the other
