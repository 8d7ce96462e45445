"""Reverse DNS of hop addresses: dnspython, cached per process, bounded in time. A failure leaves the name empty."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import dns.exception
import dns.resolver
import dns.reversename

TIMEOUT_S = 0.5  # per lookup; all lookups of a round run at once, so a round waits at most about this long
CACHE_S = 3600.0
MAX_NAME = 255
MAX_AT_ONCE = 32  # a round's traces rarely pass more distinct hops than this
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()
_resolver: dns.resolver.Resolver | None = None


def _lookup(address: str, timeout_s: float) -> str:
    global _resolver
    try:
        if _resolver is None:
            _resolver = dns.resolver.Resolver()
        answer = _resolver.resolve(dns.reversename.from_address(address), "PTR", lifetime=timeout_s)
        return str(answer[0].target).rstrip(".")[:MAX_NAME]
    except (dns.exception.DNSException, OSError, ValueError, IndexError):
        return ""


def reverse_names(addresses: set[str], timeout_s: float = TIMEOUT_S) -> dict[str, str]:
    """{address: name or ""}: cached answers (misses too, for an hour), the rest looked up together."""
    now = time.monotonic()
    with _lock:
        names = {a: _cache[a][1] for a in addresses if a in _cache and _cache[a][0] > now}
    missing = sorted(set(addresses) - set(names))
    if missing:
        pool = ThreadPoolExecutor(max_workers=min(MAX_AT_ONCE, len(missing)), thread_name_prefix="rdns")
        futures = {a: pool.submit(_lookup, a, timeout_s) for a in missing}
        wait(futures.values(), timeout=timeout_s * -(-len(missing) // MAX_AT_ONCE) + 0.5)
        pool.shutdown(wait=False, cancel_futures=True)
        with _lock:
            for address, future in futures.items():
                # A lookup still queued when time ran out was cancelled (done, without a result).
                answered = future.done() and not future.cancelled()
                names[address] = future.result() if answered else ""
                if answered:  # an address not looked up in time is tried again next round
                    _cache[address] = (now + CACHE_S, names[address])
    return names
