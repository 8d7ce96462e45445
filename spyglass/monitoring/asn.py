"""The prefix-to-AS table: the prefix and network (origin AS) shown for a hop address.

The operator loads it with `spyglass asn import FILE [--names FILE]` from public files, nothing is fetched:
- prefixes: CAIDA's RouteViews prefix-to-AS format (routeviews-rv2-*.pfx2as), one `prefix<TAB>length<TAB>origin`
  line each, origin an AS number, a multi-origin `64500_64501` or an AS set `64500,64501`;
- names (optional): one `ASN NAME` line each, as RIPE's asn.txt (`13335 CLOUDFLARENET, US`).
A hop's prefix is the longest stored prefix holding its address. Without a table prefixes and networks are empty.
An import replaces the whole table in one transaction, or, on any bad line, changes nothing."""

import ipaddress
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .models import AsnName, AsnPrefix, AsnTable

_ORIGIN = re.compile(r"^[0-9]{1,10}([_,][0-9]{1,10})*$")
_BATCH = 5000


class AsnFileError(ValueError):
    pass


@dataclass(frozen=True)
class Network:
    prefix: str  # "198.18.0.0/15"
    asn: int | None  # the first origin AS
    name: str  # the AS name, "" when the names file did not have it

    @property
    def label(self) -> str:
        """How the path view names it: "AS64500 Example"."""
        if self.asn is None:
            return ""
        return f"AS{self.asn} {self.name}".rstrip()

    @property
    def v6(self) -> str:
        """How v6's path-vis names it: "Example (AS 64500)"."""
        if self.asn is None:
            return ""
        return f"{self.name} (AS {self.asn})" if self.name else f"AS {self.asn}"


def parse_prefixes(lines, source: str = "prefixes") -> list[tuple[str, int, str]]:
    """(cidr, length, origin) of every line; raises AsnFileError naming the file, the line and the problem."""
    out = []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        where = f"{source}, line {number}"
        if len(parts) != 3:
            raise AsnFileError(f"{where}: expected prefix<TAB>length<TAB>AS, got {line[:60]!r}")
        prefix, length, origin = (p.strip() for p in parts)
        if not length.isdigit():
            raise AsnFileError(f"{where}: prefix length {length[:20]!r} is not a number")
        try:
            network = ipaddress.ip_network(f"{prefix}/{int(length)}", strict=True)
        except ValueError as exc:
            raise AsnFileError(f"{where}: {exc}") from None
        if not _ORIGIN.match(origin):
            raise AsnFileError(f"{where}: origin {origin[:30]!r} is not an AS number (or 64500_64501, 64500,64501)")
        out.append((str(network), network.prefixlen, origin))
    if not out:
        raise AsnFileError(f"{source}: no prefixes found")
    return out


def parse_names(lines, source: str = "names") -> dict[int, str]:
    out = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        given, _, name = line.partition(" ")
        digits = given.upper().removeprefix("AS")
        if not digits.isdigit() or len(digits) > 10:
            raise AsnFileError(f"{source}, line {number}: {given[:20]!r} is not an AS number")
        out[int(digits)] = name.strip()[:300]
    return out


@transaction.atomic
def load(prefixes: list[tuple[str, int, str]], names: dict[int, str] | None, source: str) -> int:
    """Replace the table (and the names, when given). Bumps the table's version: every snapshot's stored page is
    then stale (a trigger, sharing migration 0007), since hop prefixes and networks come from here."""
    AsnPrefix.objects.all().delete()
    seen = {}
    for cidr, length, origin in prefixes:
        seen[cidr] = (length, origin)  # a prefix listed twice: the last line wins
    rows = [AsnPrefix(cidr=c, length=lo[0], origin=lo[1]) for c, lo in seen.items()]
    for i in range(0, len(rows), _BATCH):
        AsnPrefix.objects.bulk_create(rows[i : i + _BATCH])
    if names is not None:
        AsnName.objects.all().delete()
        named = [AsnName(asn=a, name=n) for a, n in names.items()]
        for i in range(0, len(named), _BATCH):
            AsnName.objects.bulk_create(named[i : i + _BATCH])
    lengths: dict[str, set[int]] = {"4": set(), "6": set()}
    for cidr, (length, _) in seen.items():
        lengths["6" if ":" in cidr else "4"].add(length)
    table, _ = AsnTable.objects.get_or_create(id=1)
    AsnTable.objects.filter(id=table.id).update(
        version=table.version + 1,
        loaded_at=timezone.now(),
        source=source[:500],
        prefixes=len(rows),
        lengths={family: sorted(found, reverse=True) for family, found in lengths.items()},
    )
    return len(rows)


def lookup(addresses) -> dict[str, Network]:
    """The longest stored prefix of each address (those without one are left out): three queries whatever the
    count — the table's prefix lengths, the candidate prefixes of those lengths, their AS names."""
    table = AsnTable.objects.filter(id=1).values("version", "lengths").first()
    if not table or not table["version"]:
        return {}
    v4, v6 = table["lengths"].get("4", []), table["lengths"].get("6", [])
    candidates: dict[str, list[str]] = {}
    for address in set(addresses):
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        lengths = v4 if ip.version == 4 else v6
        candidates[address] = [str(ipaddress.ip_network((ip, n), strict=False)) for n in lengths]
    wanted = {c for cs in candidates.values() for c in cs}
    if not wanted:
        return {}
    origins: dict[str, str] = {}
    wanted_list = sorted(wanted)
    for i in range(0, len(wanted_list), 500):
        origins.update(AsnPrefix.objects.filter(cidr__in=wanted_list[i : i + 500]).values_list("cidr", "origin"))
    first = {cidr: int(re.split(r"[_,]", origin)[0]) for cidr, origin in origins.items()}
    names = dict(AsnName.objects.filter(asn__in=set(first.values())).values_list("asn", "name"))
    out = {}
    for address, cidrs in candidates.items():
        best = next((c for c in cidrs if c in first), None)  # lengths run longest first
        if best is not None:
            out[address] = Network(best, first[best], names.get(first[best], ""))
    return out
