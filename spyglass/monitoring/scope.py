"""What part of a test's results a reader may see — the one hook every read path goes through.

A plain test shows all of its own rows. A snapshot (spyglass.sharing) shows its source test's rows inside its frozen
window and for its chosen agents only; a live share (spyglass.liveshares) shows rows from the share's start onward.
Data endpoints, the results page, exports and timelines all ask `read_scope` first and clamp their queries to it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadScope:
    source_test_id: int  # whose result rows to read
    start_round: int | None = None  # inclusive bounds, None = unbounded
    end_round: int | None = None
    agent_ids: frozenset[int] | None = None  # None = every agent

    def clamp(self, start: int | None, end: int | None) -> tuple[int | None, int | None]:
        """Intersect a requested [start, end] with the scope's bounds."""
        if self.start_round is not None:
            start = self.start_round if start is None else max(start, self.start_round)
        if self.end_round is not None:
            end = self.end_round if end is None else min(end, self.end_round)
        return start, end


# Functions (access, test) -> ReadScope | None, registered by the sharing apps; the first answer that is not None wins.
_PROVIDERS = []


def register(provider):
    _PROVIDERS.append(provider)
    return provider


def read_scope(access, test) -> ReadScope:
    for provider in _PROVIDERS:
        scope = provider(access, test)
        if scope is not None:
            return scope
    return ReadScope(source_test_id=test.id)
