"""What part of a test's results a reader may see — the one hook every read path goes through.

A plain test shows all of its own rows. A snapshot (spyglass.sharing) shows its source test's rows inside its frozen
window and for its chosen agents only, as they were when it was frozen; a live share shows rows from the share's
start onward. Data endpoints, the results page, exports and timelines all ask `read_scope` first and read through
`scope.results(model)`, which applies every restriction (window, agents, freeze, copied rows) in one queryset."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Q

from spyglass.lib import anonymize


@dataclass(frozen=True)
class ReadScope:
    source_test_id: int  # whose result rows to read
    start_round: int | None = None  # inclusive bounds, None = unbounded
    end_round: int | None = None
    agent_ids: frozenset[int] | None = None  # None = every agent
    frozen_at: datetime | None = None  # only row versions written before this instant
    copies_test_id: int | None = None  # rows replaced after frozen_at were copied here (see results.upsert)
    # An anonymized snapshot: every agent of its window by id. Readers then name agents "Agent N" by their place here
    # and hide agents' addresses and internal hops (agent_name, hops below; lib/anonymize.py); None = real names.
    agent_order: tuple[int, ...] | None = None

    @property
    def anonymized(self) -> bool:
        return self.agent_order is not None

    def agent_name(self, agent_id: int, name):
        """The agent's name as this reader sees it."""
        return name if self.agent_order is None else anonymize.agent_label(self.agent_order, agent_id)

    def agent_location(self, location):
        return location if self.agent_order is None else ""

    def source_ip(self, address):
        """An agent's own address as this reader sees it."""
        return address if self.agent_order is None or not address else anonymize.SOURCE_LABEL

    def internal_hops(self, addresses) -> list[bool]:
        """Per hop, whether it is shown by its pseudonym (anonymize.hop_label) instead of its address and name."""
        if self.agent_order is None:
            return [False] * len(addresses)
        return anonymize.internal_hops(addresses)

    def clamp(self, start: int | None, end: int | None) -> tuple[int | None, int | None]:
        """Intersect a requested [start, end] with the scope's bounds."""
        if self.start_round is not None:
            start = self.start_round if start is None else max(start, self.start_round)
        if self.end_round is not None:
            end = self.end_round if end is None else min(end, self.end_round)
        return start, end

    def within(self, start: int | None, end: int | None, agent_ids=None) -> "ReadScope":
        """This scope narrowed to [start, end] and to `agent_ids` (None = no further restriction): it can only
        shrink, so a page that asks for more than it may see gets what it may see."""
        start, end = self.clamp(start, end)
        agents = self.agent_ids
        if agent_ids is not None:
            agents = frozenset(agent_ids) if agents is None else agents & frozenset(agent_ids)
        return replace(self, start_round=start, end_round=end, agent_ids=agents)

    def results(self, model):
        """The result rows of `model` (NetResult, HttpResult, DnsResult) this scope lets a reader see."""
        rows = Q(test_id=self.source_test_id)
        if self.frozen_at is not None:
            rows &= Q(recorded_at__lte=self.frozen_at)
        if self.copies_test_id is not None:
            # A copy exists only for a key whose source row was replaced after the freeze: never both.
            rows |= Q(test_id=self.copies_test_id)
        qs = model.objects.filter(rows)
        if self.agent_ids is not None:
            qs = qs.filter(agent_id__in=self.agent_ids)
        if self.start_round is not None:
            qs = qs.filter(round_id__gte=self.start_round)
        if self.end_round is not None:
            qs = qs.filter(round_id__lte=self.end_round)
        return qs


# Functions (access, test) -> ReadScope | None, registered by the sharing apps; the first answer that is not None wins.
_PROVIDERS: list[Callable[..., ReadScope | None]] = []


def register(provider):
    _PROVIDERS.append(provider)
    return provider


def read_scope(access, test) -> ReadScope:
    for provider in _PROVIDERS:
        scope = provider(access, test)
        if scope is not None:
            return scope
    return ReadScope(source_test_id=test.id)
