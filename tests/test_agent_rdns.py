"""Reverse DNS of hop addresses: names from the resolver, a failure or a silent server leaves the name empty within
the time bound, and answers (misses too) are cached."""

import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
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


@contextmanager
def names_server(*pairs: str, hold: int = 0):
    """tests/netlab/names.py on a free loopback UDP port: yields the port once it listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:  # a UDP port nobody holds
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(NAMES), "--hold", str(hold), "127.0.0.1", str(port), *pairs],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_it_names_hops_and_leaves_unknown_addresses_empty(monkeypatch):
    with names_server("192.0.2.1=edge-1.example.net") as port:
        monkeypatch.setattr(rdns, "_resolver", resolver_at(port))
        names = rdns.reverse_names({"192.0.2.1", "192.0.2.2"})
    assert names == {"192.0.2.1": "edge-1.example.net", "192.0.2.2": ""}
    # Cached, misses too: the responder is gone and the answers are the same.
    assert rdns.reverse_names({"192.0.2.1", "192.0.2.2"}) == names


def test_the_addresses_of_a_round_are_looked_up_together(monkeypatch):
    # The responder answers nothing until it has been asked about all 20 addresses. Lookups one after the other would
    # each run out of time unanswered (the first waits for the other 19) and leave the names empty; lookups made
    # together are all in flight at once, so all get their names.
    addresses = [f"192.0.2.{i}" for i in range(1, 21)]
    with names_server(*[f"{a}=hop-{a.replace('.', '-')}.example.net" for a in addresses], hold=20) as port:
        monkeypatch.setattr(rdns, "_resolver", resolver_at(port))
        names = rdns.reverse_names(set(addresses), timeout_s=3.0)
    assert names == {a: f"hop-{a.replace('.', '-')}.example.net" for a in addresses}


def test_a_silent_resolver_leaves_the_names_empty(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        monkeypatch.setattr(rdns, "_resolver", resolver_at(silent.getsockname()[1]))
        names = rdns.reverse_names({f"192.0.2.{i}" for i in range(1, 21)}, timeout_s=0.3)
        silent.settimeout(0.5)
        assert silent.recv(512)  # it was asked
    assert names == {f"192.0.2.{i}": "" for i in range(1, 21)}


def test_addresses_still_queued_when_time_runs_out_are_left_empty_and_asked_again(monkeypatch):
    release = threading.Event()
    asked = []

    def stuck(address, timeout_s):  # a lookup that outlives its bound (a resolver thread starved under load)
        asked.append(address)
        release.wait(10)
        return "late.example.net"

    monkeypatch.setattr(rdns, "_lookup", stuck)
    monkeypatch.setattr(rdns, "MAX_AT_ONCE", 1)  # one at a time: the second and third wait in the queue
    try:
        names = rdns.reverse_names({"192.0.2.1", "192.0.2.2", "192.0.2.3"}, timeout_s=0.1)
    finally:
        release.set()
    assert names == {"192.0.2.1": "", "192.0.2.2": "", "192.0.2.3": ""}
    assert asked == ["192.0.2.1"]
    monkeypatch.setattr(rdns, "_lookup", lambda address, timeout_s: f"{address}.example.net")
    assert rdns.reverse_names({"192.0.2.2"}) == {"192.0.2.2": "192.0.2.2.example.net"}  # not cached as a miss
